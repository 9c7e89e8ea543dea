"""The gRPC transport: the protocol's ``inference.GRPCInferenceService`` over the same data plane as
REST, errors as gRPC status codes. Stubs are generated from ``proto/grpc_predict_v2.proto`` (the
protocol's own file, source named inside)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import grpc

from hotcrm_ai.errors import FieldError, ValidationError
from hotcrm_ai_server.auth import Principal, key_from_headers
from hotcrm_ai_server.dataplane import InferRequest, InferResponse
from hotcrm_ai_server.datatypes import from_raw, to_raw
from hotcrm_ai_server.errors import ServerError, Unavailable, to_server_error
from hotcrm_ai_server.proto import grpc_predict_v2_pb2 as pb
from hotcrm_ai_server.proto import grpc_predict_v2_pb2_grpc as pb_grpc
from hotcrm_ai_server.state import ServerState
from hotcrm_ai_server.tensors import Tensor, check_tensor, element_count, field_error

access_log = logging.getLogger("hotcrm_ai_server.access")
log = logging.getLogger("hotcrm_ai_server")
T = TypeVar("T")

_CONTENTS = {
    "BOOL": "bool_contents",
    "INT8": "int_contents",
    "INT16": "int_contents",
    "INT32": "int_contents",
    "INT64": "int64_contents",
    "UINT8": "uint_contents",
    "UINT16": "uint_contents",
    "UINT32": "uint_contents",
    "UINT64": "uint64_contents",
    "FP32": "fp32_contents",
    "FP64": "fp64_contents",
    "BYTES": "bytes_contents",
}


def _param_value(p: pb.InferParameter) -> Any:
    which = p.WhichOneof("parameter_choice")
    return getattr(p, which) if which else None


def _set_param(target: pb.InferParameter, value: Any) -> None:
    if isinstance(value, bool):
        target.bool_param = value
    elif isinstance(value, int):
        target.int64_param = value
    else:
        target.string_param = str(value)


def decode_request(req: pb.ModelInferRequest) -> InferRequest:
    errors: list[FieldError] = []
    raw = list(req.raw_input_contents)
    if raw and len(raw) != len(req.inputs):
        errors.append(FieldError("raw_input_contents", f"one entry per input ({len(req.inputs)})", str(len(raw))))
    tensors = []
    for i, t in enumerate(req.inputs):
        where = f"inputs[{i}]"
        shape = list(t.shape)
        bad = check_tensor(t.name, t.datatype, shape, where)
        if bad:
            errors.extend(bad)
            continue
        count = element_count(shape)
        try:
            if raw:
                if i >= len(raw):
                    continue
                data = from_raw(t.datatype, raw[i], count, f"inputs.{t.name}")
            else:
                field = _CONTENTS.get(t.datatype)
                if field is None:
                    raise ValueError(f"inputs.{t.name}: expected raw_input_contents for {t.datatype}")
                data = list(getattr(t.contents, field))
                if len(data) != count:
                    raise ValueError(
                        f"inputs.{t.name}.contents: expected {count} elements for shape {shape}, got {len(data)}"
                    )
        except ValueError as exc:
            errors.append(field_error(exc))
            continue
        params = {k: _param_value(v) for k, v in t.parameters.items()}
        tensors.append(Tensor(name=t.name, datatype=t.datatype, shape=tuple(shape), data=data, parameters=params))
    if errors:
        raise ValidationError(errors, subject="request")
    return InferRequest(
        inputs=tuple(tensors),
        id=req.id,
        parameters={k: _param_value(v) for k, v in req.parameters.items()},
        outputs=tuple(o.name for o in req.outputs) or None,
    )


def encode_response(resp: InferResponse) -> pb.ModelInferResponse:
    out = pb.ModelInferResponse(model_name=resp.model_name, model_version=resp.model_version, id=resp.id)
    for k, v in resp.parameters.items():
        _set_param(out.parameters[k], v)
    for t in resp.outputs:
        out.outputs.add(name=t.name, datatype=t.datatype, shape=list(t.shape))
        out.raw_output_contents.append(to_raw(t.datatype, t.data))
    return out


class InferenceServicer(pb_grpc.GRPCInferenceServiceServicer):
    def __init__(self, state: ServerState) -> None:
        self.state = state

    def _call(self, name: str, context: grpc.ServicerContext, fn: Callable[[Principal], T], *, auth: bool = True) -> T:
        start = time.perf_counter()
        state = self.state
        code, tenant = "OK", "-"
        state.metrics.in_flight.inc()
        try:
            if state.draining and auth:
                raise Unavailable("server is shutting down")
            principal = Principal(tenant=None)
            if auth:
                metadata = {k.lower(): v for k, v in context.invocation_metadata() if isinstance(v, str)}
                principal = state.authenticate(key_from_headers(metadata.get))
                tenant = principal.tenant or "-"
            return fn(principal)
        except Exception as exc:
            err = to_server_error(exc)
            if err.status >= 500 and not isinstance(exc, ServerError):
                log.error("gRPC %s failed: %s", name, type(exc).__name__, exc_info=exc)
            code = err.grpc_code
            context.abort(getattr(grpc.StatusCode, err.grpc_code), err.message)
            raise  # abort raises; this line is never reached
        finally:
            state.metrics.in_flight.dec()
            seconds = time.perf_counter() - start
            state.metrics.observe("grpc", name, code, seconds)
            access_log.info('%s "gRPC %s" %s %.1fms tenant=%s', context.peer(), name, code, seconds * 1000, tenant)

    def ServerLive(self, request: pb.ServerLiveRequest, context: grpc.ServicerContext) -> pb.ServerLiveResponse:
        return self._call("ServerLive", context, lambda p: pb.ServerLiveResponse(live=True), auth=False)

    def ServerReady(self, request: pb.ServerReadyRequest, context: grpc.ServicerContext) -> pb.ServerReadyResponse:
        return self._call("ServerReady", context, lambda p: pb.ServerReadyResponse(ready=self.state.ready), auth=False)

    def ModelReady(self, request: pb.ModelReadyRequest, context: grpc.ServicerContext) -> pb.ModelReadyResponse:
        return self._call(
            "ModelReady",
            context,
            lambda p: pb.ModelReadyResponse(
                ready=self.state.plane().model_ready(p, request.name, request.version or None)
            ),
        )

    def ServerMetadata(
        self, request: pb.ServerMetadataRequest, context: grpc.ServicerContext
    ) -> pb.ServerMetadataResponse:
        return self._call(
            "ServerMetadata", context, lambda p: pb.ServerMetadataResponse(**self.state.plane().server_metadata())
        )

    def ModelMetadata(
        self, request: pb.ModelMetadataRequest, context: grpc.ServicerContext
    ) -> pb.ModelMetadataResponse:
        def run(p: Principal) -> pb.ModelMetadataResponse:
            meta = self.state.plane().model_metadata(p, request.name, request.version or None)
            tensor = pb.ModelMetadataResponse.TensorMetadata
            return pb.ModelMetadataResponse(
                name=meta["name"],
                versions=meta["versions"],
                platform=meta["platform"],
                inputs=[tensor(name=t["name"], datatype=t["datatype"], shape=t["shape"]) for t in meta["inputs"]],
                outputs=[tensor(name=t["name"], datatype=t["datatype"], shape=t["shape"]) for t in meta["outputs"]],
            )

        return self._call("ModelMetadata", context, run)

    def ModelInfer(self, request: pb.ModelInferRequest, context: grpc.ServicerContext) -> pb.ModelInferResponse:
        def run(p: Principal) -> pb.ModelInferResponse:
            plane = self.state.plane()
            resp = plane.infer(p, request.model_name, request.model_version or None, decode_request(request))
            self.state.metrics.rows.labels(resp.model_name).inc(resp.outputs[0].shape[0] if resp.outputs else 0)
            return encode_response(resp)

        return self._call("ModelInfer", context, run)


def start_grpc(state: ServerState, host: str, port: int) -> grpc.Server:
    """Start the gRPC server in background threads (``SO_REUSEPORT`` lets several workers share a port)."""
    limit = state.settings.max_body_bytes
    server = grpc.server(
        ThreadPoolExecutor(state.settings.threads, "hotcrm-ai-grpc"),
        options=[
            ("grpc.max_receive_message_length", limit),
            ("grpc.max_send_message_length", -1),
            ("grpc.so_reuseport", 1),
        ],
    )
    pb_grpc.add_GRPCInferenceServiceServicer_to_server(InferenceServicer(state), server)
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    if server.add_insecure_port(address) == 0:
        raise OSError(f"gRPC could not bind {address}")
    server.start()
    return server
