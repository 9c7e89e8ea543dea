"""The REST transport: Starlette routes for every OIP V2 endpoint plus explain, ask, metrics and the
OpenAPI document. Handlers decode, call the data plane in a worker thread (predictions are blocking
numpy or network work) under the request time limit, and encode; errors are ``{"error": "..."}``."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import zlib
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hotcrm_ai_server.auth import Principal, key_from_headers
from hotcrm_ai_server.binary import HEADER, decode_inputs, encode_outputs, split_body
from hotcrm_ai_server.dataplane import InferRequest, InferResponse
from hotcrm_ai_server.errors import BadRequest, ServerError, Timeout, TooLarge, Unavailable, to_server_error
from hotcrm_ai_server.metrics import CONTENT_TYPE
from hotcrm_ai_server.state import ServerState

access_log = logging.getLogger("hotcrm_ai_server.access")
log = logging.getLogger("hotcrm_ai_server")

Handler = Callable[[Request, Principal], Awaitable[Response]]


def _json(data: Any, status: int = 200) -> Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
    return Response(body, status_code=status, media_type="application/json")


class _Endpoint:
    """Wraps a handler: drain check, key -> principal, error mapping, metrics and the access log line
    (method, path, status, time, tenant and sizes: never features, keys or outputs)."""

    def __init__(self, state: ServerState, route: str, handler: Handler, *, auth: bool = True) -> None:
        self.state, self.route, self.handler, self.auth = state, route, handler, auth

    async def handle(self, request: Request) -> Response:
        start = time.perf_counter()
        state = self.state
        tenant = "-"
        state.metrics.in_flight.inc()
        try:
            if state.draining and self.auth:
                raise Unavailable("server is shutting down")
            principal = Principal(tenant=None)
            if self.auth:
                principal = state.authenticate(key_from_headers(request.headers.get))
                tenant = principal.tenant or "-"
            response = await self.handler(request, principal)
        except Exception as exc:
            err = to_server_error(exc)
            if err.status >= 500 and not isinstance(exc, ServerError):
                log.error("%s %s failed: %s", request.method, self.route, type(exc).__name__, exc_info=exc)
            response = _json({"error": err.message}, err.status)
            if err.status == 401:
                response.headers["WWW-Authenticate"] = "Bearer"
        finally:
            state.metrics.in_flight.dec()
        seconds = time.perf_counter() - start
        state.metrics.observe("rest", self.route, response.status_code, seconds)
        access_log.info(
            '%s "%s %s" %d %.1fms tenant=%s in=%s out=%d',
            request.client.host if request.client else "-",
            request.method,
            request.url.path,
            response.status_code,
            seconds * 1000,
            tenant,
            request.headers.get("content-length", "0"),
            len(response.body),
        )
        return response


async def _read_body(request: Request, limit: int) -> bytes:
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise TooLarge(f"request body of {length} bytes is over the limit of {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"request body is over the limit of {limit} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    encoding = request.headers.get("content-encoding", "identity").lower()
    if encoding in ("gzip", "deflate"):
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS)
        try:
            body = inflater.decompress(body, limit + 1)
        except zlib.error:
            raise BadRequest(f"body: expected {encoding} data") from None
        if len(body) > limit or inflater.unconsumed_tail:
            raise TooLarge(f"decompressed request body is over the limit of {limit} bytes")
    elif encoding != "identity":
        raise BadRequest(f"Content-Encoding: expected gzip, deflate or identity, got {encoding[:20]}")
    return body


def _infer_request(doc: dict[str, Any], tail: bytes) -> tuple[InferRequest, list[bool]]:
    """The request, and per requested output whether it goes back binary (None: all outputs)."""
    params = doc.get("parameters") or {}
    if not isinstance(params, dict):
        raise BadRequest("parameters: expected an object")
    request_id = doc.get("id", "")
    if not isinstance(request_id, str):
        raise BadRequest("id: expected a string")
    outputs = doc.get("outputs")
    names: tuple[str, ...] | None = None
    binary: list[bool] = [params.get("binary_data_output", False) is True]
    if outputs is not None:
        if not isinstance(outputs, list) or not all(
            isinstance(o, dict) and isinstance(o.get("name"), str) and isinstance(o.get("parameters") or {}, dict)
            for o in outputs
        ):
            raise BadRequest("outputs: expected a list of objects with a name and optional parameters (an object)")
        names = tuple(o["name"] for o in outputs)
        binary = [(o.get("parameters") or {}).get("binary_data", binary[0]) is True for o in outputs] or binary
    inputs = decode_inputs(doc, tail)
    return InferRequest(inputs=tuple(inputs), id=request_id, parameters=params, outputs=names), binary


def _infer_response(resp: InferResponse, binary: list[bool]) -> Response:
    """``binary``: one flag per requested output, or a single flag for all outputs."""
    flags = binary if len(binary) == len(resp.outputs) else [binary[0]] * len(resp.outputs)
    entries, tail = encode_outputs(resp.outputs, flags)
    doc: dict[str, Any] = {"model_name": resp.model_name, "model_version": resp.model_version, "outputs": entries}
    if resp.id:
        doc["id"] = resp.id
    if resp.parameters:
        doc["parameters"] = resp.parameters
    head = json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
    if not tail:
        return Response(head, media_type="application/json")
    return Response(head + tail, media_type="application/octet-stream", headers={HEADER: str(len(head))})


def build_app(state: ServerState, *, lifespan: Any = None) -> Starlette:
    settings = state.settings

    async def in_thread(fn: Callable[[], Any]) -> Any:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(settings.request_timeout_s):  # no extra task, unlike wait_for
                return await loop.run_in_executor(None, fn)
        except TimeoutError:
            raise Timeout(f"request took longer than {settings.request_timeout_s:g} s") from None

    async def server_metadata(request: Request, p: Principal) -> Response:
        return _json(state.plane().server_metadata())

    async def live(request: Request, p: Principal) -> Response:
        return _json({"live": True})

    async def ready(request: Request, p: Principal) -> Response:
        ok = state.ready
        return _json({"ready": ok}, 200 if ok else 503)

    async def model_metadata(request: Request, p: Principal) -> Response:
        pp = request.path_params
        return _json(state.plane().model_metadata(p, pp["model"], pp.get("version")))

    async def model_ready(request: Request, p: Principal) -> Response:
        pp = request.path_params
        ok = state.plane().model_ready(p, pp["model"], pp.get("version"))
        return _json({"name": pp["model"], "ready": ok}, 200 if ok else 503)

    async def read_infer_request(request: Request) -> tuple[InferRequest, list[bool]]:
        body = await _read_body(request, settings.max_body_bytes)
        return _infer_request(*split_body(body, request.headers.get(HEADER)))

    async def infer(request: Request, p: Principal) -> Response:
        pp, plane = request.path_params, state.plane()
        infer_request, binary = await read_infer_request(request)
        resp = await in_thread(lambda: plane.infer(p, pp["model"], pp.get("version"), infer_request))
        state.metrics.rows.labels(resp.model_name).inc(resp.outputs[0].shape[0] if resp.outputs else 0)
        return _infer_response(resp, binary)

    async def explain(request: Request, p: Principal) -> Response:
        pp, plane = request.path_params, state.plane()
        infer_request, _ = await read_infer_request(request)
        return _json(await in_thread(lambda: plane.explain(p, pp["model"], pp.get("version"), infer_request)))

    async def ask(request: Request, p: Principal) -> Response:
        plane = state.plane()
        body = await _read_body(request, settings.max_body_bytes)
        doc, _ = split_body(body, None)
        return _json(await in_thread(lambda: plane.ask(p, doc.get("question"), doc.get("now"), doc.get("limit", 100))))

    async def metrics(request: Request, p: Principal) -> Response:
        return Response(state.metrics.render(), media_type=CONTENT_TYPE)

    async def openapi(request: Request, p: Principal) -> Response:
        from hotcrm_ai_server.openapi import openapi_document

        return _json(openapi_document())

    def route(path: str, handler: Handler, method: str, *, auth: bool = True) -> Route:
        return Route(path, _Endpoint(state, path, handler, auth=auth).handle, methods=[method])

    m, mv = "/v2/models/{model}", "/v2/models/{model}/versions/{version}"
    routes = [
        route("/v2", server_metadata, "GET"),
        route("/v2/health/live", live, "GET", auth=False),
        route("/v2/health/ready", ready, "GET", auth=False),
        route(m, model_metadata, "GET"),
        route(mv, model_metadata, "GET"),
        route(f"{m}/ready", model_ready, "GET"),
        route(f"{mv}/ready", model_ready, "GET"),
        route(f"{m}/infer", infer, "POST"),
        route(f"{mv}/infer", infer, "POST"),
        route(f"{m}/explain", explain, "POST"),
        route(f"{mv}/explain", explain, "POST"),
        route("/v1/ask", ask, "POST"),
        route("/metrics", metrics, "GET"),
        route("/openapi.json", openapi, "GET"),
    ]

    async def not_found(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 404)
        message = "method not allowed" if status == 405 else f"no such endpoint: {request.url.path[:200]}"
        return JSONResponse({"error": message}, status_code=status)

    return Starlette(routes=routes, lifespan=lifespan, exception_handlers={404: not_found, 405: not_found})
