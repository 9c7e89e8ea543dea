"""A local stand-in for AWS SageMaker that real boto3 clients talk to (stdlib http.server, 127.0.0.1:0).

It speaks three AWS protocols on one port, as the real services do on theirs:

* SageMaker Runtime (rest-json): ``POST /endpoints/<name>/invocations`` with JSON (one feature object,
  or ``{"instances": [...]}``) or CSV (one line per row) bodies, answered by a real model (a logistic
  or linear regression with fixed weights, numpy: the answer depends on the input). TargetVariant,
  TargetModel (multi-model endpoints), InferenceComponentName and CustomAttributes headers are honoured.
* SageMaker control plane (json 1.1, ``X-Amz-Target: SageMaker.DescribeEndpoint`` / ``ListEndpoints``).
* STS (query protocol, ``Action=AssumeRole``), issuing temporary credentials it then accepts.

Every request must be SigV4-signed: the stand-in parses the Authorization header, checks the access
key, the credential scope (date/region/service), the session token of temporary credentials, and
recomputes the signature with botocore's own ``SigV4Auth`` over the request as received.

Faults are queued per endpoint (``fail_next``) and consumed one request at a time: ModelError (424 with
the body botocore parses into OriginalMessage/OriginalStatusCode), throttling, 500/503, a model not
ready, a dropped connection, a garbled reply, a wrong row count. ``delay_s`` makes an endpoint slow.
Every request is recorded (``requests``) with its operation, headers, body and signature verdict.
"""

from __future__ import annotations

import csv
import datetime as dt
import hmac
import io
import json
import math
import re
import secrets
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote

import attrs
import numpy as np
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ACCESS_KEY = "testing-access-key"
SECRET_KEY = "testing-secret-key-0123456789-do-not-leak"
REGION = "eu-west-1"
ACCOUNT = "123456789012"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/hotcrm-invoker"

LEAD_FEATURES = ("engagement", "email_opens", "days_since_contact")
LEAD_MODEL_WEIGHTS = (0.9, 0.35, -0.08)
MODEL_ERROR_HEADER = "ModelError:http://internal.amazon.com/coral/com.amazon.sagemaker/"

# --------------------------------------------------------------------------------------------- models


@attrs.frozen
class LinearModel:
    """y = w . x + b over named numeric features; ``logistic`` applies the sigmoid (a probability)."""

    features: tuple[str, ...]
    weights: tuple[float, ...]
    bias: float = 0.0
    logistic: bool = True

    def matrix(self, rows: Sequence[dict[str, Any]]) -> np.ndarray:
        out = np.empty((len(rows), len(self.features)), dtype=float)
        for i, row in enumerate(rows):
            if not isinstance(row, dict):
                raise ValueError(f"row {i}: expected a JSON object of features, got {type(row).__name__}")
            for j, name in enumerate(self.features):
                if name not in row:
                    raise ValueError(f"row {i}: missing feature '{name}'")
                value = row[name]
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise ValueError(f"row {i}: feature '{name}' must be a number, got {value!r}")
                out[i, j] = value
        return out

    def predict(self, rows: Sequence[dict[str, Any]]) -> np.ndarray:
        # Row by row with an exact sum (math.fsum), so a row's answer is bit-identical whether it came
        # alone or in a batch (a BLAS matrix product may round differently per batch size).
        x = self.matrix(rows)
        z = np.array(
            [math.fsum([*(xi * wi for xi, wi in zip(row, self.weights, strict=True)), self.bias]) for row in x]
        )
        return 1.0 / (1.0 + np.exp(-z)) if self.logistic else z


LEAD_MODEL = LinearModel(LEAD_FEATURES, LEAD_MODEL_WEIGHTS, bias=-1.5)
#: A regression whose answer is exactly 0.0 for (2, 4): amount = 2*a - 1*b.
REVENUE_MODEL = LinearModel(("a", "b"), (2.0, -1.0), bias=0.0, logistic=False)

STYLES = ("probability", "label", "linear-learner", "object", "value")


@attrs.define
class Endpoint:
    """One endpoint: its model, reply style, status and variants.

    Reply styles: ``probability`` -> ``{"predictions": [p]}``; ``label`` -> ``{"predictions": [0|1],
    "confidence": max(p, 1-p)}``; ``linear-learner`` -> ``{"predictions": [{"score": p,
    "predicted_label": 0|1}]}``; ``object`` -> ``{"probability": p, "label": "won"|"lost"}`` (no
    ``predictions`` key); ``value`` -> ``{"predictions": [y]}`` (regression). CSV replies: one value a line.
    """

    name: str
    model: LinearModel = LEAD_MODEL
    style: str = "probability"
    status: str = "InService"
    failure_reason: str | None = None
    variants: tuple[str, ...] = ("AllTraffic",)
    target_models: dict[str, LinearModel] = attrs.field(factory=dict)
    components: dict[str, LinearModel] = attrs.field(factory=dict)
    delay_s: float = 0.0
    invocations: int = 0


@attrs.frozen
class Recorded:
    """One request as received: what it was, who signed it and whether the signature checked out."""

    operation: str
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    access_key: str | None
    signature_valid: bool
    endpoint: str | None = None
    rows: int = 0


class _Fault(Exception):
    def __init__(self, status: int, code: str, body: dict[str, Any] | None = None, message: str = "") -> None:
        self.status = status
        self.code = code
        self.body = body if body is not None else {"message": message}
        super().__init__(message)


class _Drop(Exception):
    """Close the connection without a reply."""


# --------------------------------------------------------------------------------------------- server


class SageMakerStandIn:
    """Start with ``with SageMakerStandIn() as sm:``; point boto3 at ``sm.url``."""

    def __init__(self, *, region: str = REGION, access_key: str = ACCESS_KEY, secret_key: str = SECRET_KEY) -> None:
        self.region = region
        self.credentials: dict[str, tuple[str, str | None]] = {access_key: (secret_key, None)}
        self.endpoints: dict[str, Endpoint] = {}
        self.requests: list[Recorded] = []
        self.assumed_roles: list[dict[str, str]] = []
        self.allowed_roles: dict[str, str | None] = {ROLE_ARN: None}  # role ARN -> required ExternalId
        self._faults: dict[str, deque[str | tuple[str, str]]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> SageMakerStandIn:
        standin = self

        class Handler(_Handler):
            owner = standin

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="sagemaker-standin", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> SageMakerStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start the stand-in first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- configuration ---------------------------------------------------------------------

    def add_endpoint(self, name: str, **kw: Any) -> Endpoint:
        if kw.get("style", "probability") not in STYLES:
            raise ValueError(f"style: expected one of {STYLES}")
        endpoint = Endpoint(name=name, **kw)
        with self._lock:
            self.endpoints[name] = endpoint
        return endpoint

    def set_status(self, name: str, status: str, failure_reason: str | None = None) -> None:
        with self._lock:
            self.endpoints[name].status = status
            self.endpoints[name].failure_reason = failure_reason

    def fail_next(self, name: str, kind: str, *, message: str = "", count: int = 1) -> None:
        """Queue ``count`` faults on endpoint ``name``: model_error, model_error_bare, throttle, server_error,
        service_unavailable, model_not_ready, validation, drop, garbage, wrong_count."""
        with self._lock:
            queue = self._faults.setdefault(name, deque())
            for _ in range(count):
                queue.append((kind, message))

    def invocations(self, endpoint: str | None = None) -> list[Recorded]:
        return [
            r for r in self.requests if r.operation == "InvokeEndpoint" and (endpoint is None or r.endpoint == endpoint)
        ]

    def _next_fault(self, name: str) -> tuple[str, str] | None:
        with self._lock:
            queue = self._faults.get(name)
            return queue.popleft() if queue else None  # type: ignore[return-value]

    # -- SigV4 -----------------------------------------------------------------------------

    def verify(self, method: str, path: str, headers: Any, body: bytes, service: str) -> str:
        """The caller's access key when the request is signed right; else raises _Fault (403)."""
        auth = headers.get("Authorization")
        if not auth:
            raise _Fault(403, "MissingAuthenticationTokenException", message="Missing Authentication Token")
        match = re.fullmatch(
            r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, "
            r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})",
            auth,
        )
        if not match:
            raise _Fault(403, "IncompleteSignatureException", message="Authorization header is not SigV4")
        access_key, date, region, scope_service, signed, signature = match.groups()
        with self._lock:
            known = self.credentials.get(access_key)
        if known is None:
            raise _Fault(
                403, "UnrecognizedClientException", message="The security token included in the request is invalid."
            )
        if region != self.region or scope_service != service:
            raise _Fault(
                403, "InvalidSignatureException", message=f"Credential should be scoped to {self.region}/{service}"
            )
        amz_date = headers.get("X-Amz-Date", "")
        try:
            when = dt.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
        except ValueError:
            raise _Fault(403, "IncompleteSignatureException", message="X-Amz-Date is missing or malformed") from None
        if not amz_date.startswith(date) or abs((dt.datetime.now(dt.UTC) - when).total_seconds()) > 300:
            raise _Fault(403, "InvalidSignatureException", message="Signature expired or date out of scope")
        secret, token = known
        names = signed.split(";")
        if "host" not in names or "x-amz-date" not in names:
            raise _Fault(403, "InvalidSignatureException", message="host and x-amz-date must be signed")
        if token is not None and (headers.get("X-Amz-Security-Token") != token or "x-amz-security-token" not in names):
            raise _Fault(
                403, "UnrecognizedClientException", message="The security token included in the request is invalid."
            )
        missing = [n for n in names if headers.get(n) is None]
        if missing:
            raise _Fault(403, "InvalidSignatureException", message=f"signed headers missing: {', '.join(missing)}")
        request = AWSRequest(
            method=method,
            url=f"http://{headers['Host']}{path}",
            headers={n: headers[n] for n in names},
            data=body,
        )
        request.context["timestamp"] = amz_date
        signer = SigV4Auth(Credentials(access_key, secret, token), scope_service, region)
        canonical = signer.canonical_request(request)
        expected = signer.signature(signer.string_to_sign(request, canonical), request)
        if not hmac.compare_digest(expected, signature):
            raise _Fault(
                403,
                "InvalidSignatureException",
                message="The request signature we calculated does not match the signature you provided.",
            )
        return access_key

    # -- operations ------------------------------------------------------------------------

    def invoke(self, name: str, headers: Any, body: bytes) -> tuple[int, dict[str, str], bytes, int]:
        with self._lock:
            endpoint = self.endpoints.get(name)
        if endpoint is None:
            raise _Fault(400, "ValidationError", message=f"Endpoint {name} of account {ACCOUNT} not found.")
        if endpoint.status != "InService":
            raise _Fault(
                400, "ValidationError", message=f"Endpoint {name} is not in service (status {endpoint.status})."
            )
        fault = self._next_fault(name)
        if endpoint.delay_s:
            self._stopping.wait(endpoint.delay_s)
        model, variant = self._route(endpoint, headers)
        content_type = (headers.get("Content-Type") or "").lower()
        accept = (headers.get("Accept") or content_type).lower()
        if fault is not None and fault[0] != "wrong_count":
            self._raise_fault(endpoint, *fault)
        try:
            rows, batch = self._parse_rows(model, content_type, body)
            values = model.predict(rows)
        except ValueError as exc:
            raise _model_error(endpoint.name, 400, str(exc)) from None
        if fault is not None and fault[0] == "wrong_count":
            values = values[:-1]
        out_type, payload = self._render(endpoint, values, batch, accept)
        reply_headers = {"Content-Type": out_type, "x-Amzn-Invoked-Production-Variant": variant}
        if headers.get("X-Amzn-SageMaker-Custom-Attributes") is not None:
            reply_headers["X-Amzn-SageMaker-Custom-Attributes"] = headers["X-Amzn-SageMaker-Custom-Attributes"]
        with self._lock:
            endpoint.invocations += 1
        return 200, reply_headers, payload, len(rows)

    def _route(self, endpoint: Endpoint, headers: Any) -> tuple[LinearModel, str]:
        variant = headers.get("X-Amzn-SageMaker-Target-Variant")
        if variant is not None and variant not in endpoint.variants:
            raise _Fault(400, "ValidationError", message=f"Variant {variant} not found for endpoint {endpoint.name}.")
        if variant is None:
            variant = endpoint.variants[endpoint.invocations % len(endpoint.variants)]
        model = endpoint.model
        target = headers.get("X-Amzn-SageMaker-Target-Model")
        if target is not None:
            if target not in endpoint.target_models:
                raise _model_error(endpoint.name, 404, f"Model {target} not found in the model repository")
            model = endpoint.target_models[target]
        component = headers.get("X-Amzn-SageMaker-Inference-Component")
        if component is not None:
            if component not in endpoint.components:
                raise _Fault(400, "ValidationError", message=f"Inference component {component} not found.")
            model = endpoint.components[component]
        return model, variant

    @staticmethod
    def _parse_rows(model: LinearModel, content_type: str, body: bytes) -> tuple[list[dict[str, Any]], bool]:
        if "csv" in content_type:
            rows = []
            for line in csv.reader(io.StringIO(body.decode("utf-8"))):
                if not line:
                    continue
                if len(line) != len(model.features):
                    raise ValueError(f"expected {len(model.features)} CSV columns, got {len(line)}")
                try:
                    rows.append({n: float(c) for n, c in zip(model.features, line, strict=True)})
                except ValueError:
                    raise ValueError(f"CSV cells must be numbers: {line!r}") from None
            return rows, True
        if "json" not in content_type:
            raise ValueError(f"unsupported content type {content_type!r}")
        try:
            doc = json.loads(body)
        except ValueError:
            raise ValueError("request body is not valid JSON") from None
        if isinstance(doc, dict) and "instances" in doc:
            if not isinstance(doc["instances"], list) or not doc["instances"]:
                raise ValueError("instances must be a non-empty list")
            return doc["instances"], True
        return [doc], False

    @staticmethod
    def _render(endpoint: Endpoint, values: np.ndarray, batch: bool, accept: str) -> tuple[str, bytes]:
        if "csv" in accept:
            return "text/csv", "".join(f"{float(v)!r}\n" for v in values).encode()
        probs = [float(v) for v in values]
        labels = [int(p >= 0.5) for p in probs]
        confidences = [max(p, 1 - p) for p in probs]
        style = endpoint.style
        doc: Any
        if style == "probability" or style == "value":
            doc = {"predictions": probs}
        elif style == "label":
            doc = {"predictions": labels, "confidence": confidences if batch else confidences[0]}
        elif style == "linear-learner":
            doc = {"predictions": [{"score": p, "predicted_label": lab} for p, lab in zip(probs, labels, strict=True)]}
        else:  # object
            objects = [
                {"probability": p, "label": "won" if lab else "lost"} for p, lab in zip(probs, labels, strict=True)
            ]
            doc = {"predictions": objects} if batch else objects[0]
        return "application/json", json.dumps(doc).encode()

    @staticmethod
    def _raise_fault(endpoint: Endpoint, kind: str, message: str) -> None:
        if kind == "model_error":
            raise _model_error(endpoint.name, 500, message or "boom: the model container raised ZeroDivisionError")
        if kind == "model_error_bare":  # a 424 without the x-amzn-ErrorType header (some proxies drop it)
            raise _Fault(424, "", {"Message": message or "Received server error (500) from primary"})
        if kind == "throttle":
            raise _Fault(400, "ThrottlingException", message=message or "Rate exceeded")
        if kind == "server_error":
            raise _Fault(500, "InternalFailure", message=message or "An internal failure occurred.")
        if kind == "service_unavailable":
            raise _Fault(503, "ServiceUnavailable", message=message or "The service is unavailable.")
        if kind == "model_not_ready":
            raise _Fault(429, "ModelNotReadyException", message=message or "Model is still loading.")
        if kind == "validation":
            raise _Fault(400, "ValidationError", message=message or "Invalid request.")
        if kind == "drop":
            raise _Drop()
        if kind == "garbage":
            raise _Garbage()
        raise ValueError(f"unknown fault kind {kind!r}")

    def control(self, target: str, body: bytes) -> dict[str, Any]:
        doc = json.loads(body or b"{}")
        operation = target.split(".", 1)[-1]
        if operation == "DescribeEndpoint":
            name = doc.get("EndpointName")
            with self._lock:
                endpoint = self.endpoints.get(name)
            if endpoint is None:
                raise _Fault(
                    400,
                    "ValidationException",
                    message=f'Could not find endpoint "arn:aws:sagemaker:{self.region}:{ACCOUNT}:endpoint/{name}".',
                )
            return self._describe(endpoint)
        if operation == "ListEndpoints":
            with self._lock:
                endpoints = list(self.endpoints.values())
            limit = int(doc.get("MaxResults", 100))
            summaries = [
                {
                    k: v
                    for k, v in self._describe(e).items()
                    if k in ("EndpointName", "EndpointArn", "CreationTime", "LastModifiedTime", "EndpointStatus")
                }
                for e in endpoints[:limit]
            ]
            return {"Endpoints": summaries}
        raise _Fault(400, "UnknownOperationException", message=f"stand-in does not implement {operation}")

    def _describe(self, endpoint: Endpoint) -> dict[str, Any]:
        now = time.time()
        doc: dict[str, Any] = {
            "EndpointName": endpoint.name,
            "EndpointArn": f"arn:aws:sagemaker:{self.region}:{ACCOUNT}:endpoint/{endpoint.name}",
            "EndpointConfigName": f"{endpoint.name}-config",
            "ProductionVariants": [
                {
                    "VariantName": v,
                    "CurrentWeight": 1.0,
                    "DesiredWeight": 1.0,
                    "CurrentInstanceCount": 1,
                    "DesiredInstanceCount": 1,
                }
                for v in endpoint.variants
            ],
            "EndpointStatus": endpoint.status,
            "CreationTime": now - 3600,
            "LastModifiedTime": now - 60,
        }
        if endpoint.failure_reason:
            doc["FailureReason"] = endpoint.failure_reason
        return doc

    def assume_role(self, caller: str, form: dict[str, list[str]]) -> bytes:
        role = form.get("RoleArn", [""])[0]
        external = form.get("ExternalId", [None])[0]
        session = form.get("RoleSessionName", [""])[0]
        duration = int(form.get("DurationSeconds", ["3600"])[0])
        with self._lock:
            self.assumed_roles.append(
                {"role_arn": role, "external_id": external or "", "session": session, "caller": caller}
            )
        if role not in self.allowed_roles or (
            self.allowed_roles[role] is not None and self.allowed_roles[role] != external
        ):
            raise _Fault(
                403,
                "AccessDenied",
                message=f"User: {caller} is not authorized to perform: sts:AssumeRole on resource: {role}",
            )
        access_key = f"testing-assumed-{len(self.assumed_roles)}"
        secret_key, token = secrets.token_hex(20), f"testing-session-token-{secrets.token_hex(8)}"
        with self._lock:
            self.credentials[access_key] = (secret_key, token)
        expires = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=duration)).strftime("%Y-%m-%dT%H:%M:%SZ")
        return (
            '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>'
            f"<Credentials><AccessKeyId>{access_key}</AccessKeyId><SecretAccessKey>{secret_key}</SecretAccessKey>"
            f"<SessionToken>{token}</SessionToken><Expiration>{expires}</Expiration></Credentials>"
            f"<AssumedRoleUser><Arn>{role}/{session}</Arn><AssumedRoleId>AROATESTING:{session}</AssumedRoleId></AssumedRoleUser>"
            "</AssumeRoleResult><ResponseMetadata><RequestId>standin-1</RequestId></ResponseMetadata></AssumeRoleResponse>"
        ).encode()


class _Garbage(Exception):
    """Reply 200 with a body that is not what the Accept header asked for."""


def _model_error(endpoint: str, original_status: int, original_message: str) -> _Fault:
    """A ModelError exactly as SageMaker wraps a container's failure (HTTP 424)."""
    return _Fault(
        424,
        MODEL_ERROR_HEADER,
        {
            "ErrorCode": "CLIENT_ERROR_FROM_MODEL" if original_status < 500 else "SERVER_ERROR_FROM_MODEL",
            "LogStreamArn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/sagemaker/Endpoints/{endpoint}",
            "Message": f"Received {'client' if original_status < 500 else 'server'} error ({original_status}) "
            "from primary "
            f'with message "{original_message}". See the log stream for more information.',
            "OriginalMessage": original_message,
            "OriginalStatusCode": original_status,
        },
    )


class _Handler(BaseHTTPRequestHandler):
    owner: SageMakerStandIn
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # One reply is written in two sends (head, body): without TCP_NODELAY, Nagle plus delayed ACKs
        # add ~40 ms to every keep-alive request.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("x-amzn-RequestId", secrets.token_hex(8))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (read timeout): nothing to deliver to

    def _send_fault(self, fault: _Fault, protocol: str) -> None:
        if protocol == "query":
            xml = (
                '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
                f"<Code>{fault.code}</Code><Message>{fault.body.get('message', '')}</Message></Error>"
                "<RequestId>standin-err</RequestId></ErrorResponse>"
            )
            self._send(fault.status, {"Content-Type": "text/xml"}, xml.encode())
        elif protocol == "json":
            body = {"__type": fault.code, **fault.body}
            self._send(fault.status, {"Content-Type": "application/x-amz-json-1.1"}, json.dumps(body).encode())
        else:
            headers = {"Content-Type": "application/json"}
            if fault.code:
                headers["x-amzn-ErrorType"] = fault.code
            self._send(fault.status, headers, json.dumps(fault.body).encode())

    def do_POST(self) -> None:
        owner = self.owner
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = self.path
        target = self.headers.get("X-Amz-Target")
        form = parse_qs(body.decode("utf-8", "replace")) if not target and not path.startswith("/endpoints/") else {}
        if path.startswith("/endpoints/") and path.endswith("/invocations"):
            operation, service, protocol = "InvokeEndpoint", "sagemaker", "rest-json"
        elif target and target.startswith("SageMaker."):
            operation, service, protocol = target.split(".", 1)[1], "sagemaker", "json"
        elif form.get("Action") == ["AssumeRole"]:
            operation, service, protocol = "AssumeRole", "sts", "query"
        else:
            self._send(404, {"Content-Type": "text/plain"}, b"not a SageMaker/STS route")
            return
        endpoint = unquote(path.split("/")[2]) if operation == "InvokeEndpoint" else None
        access_key: str | None = None
        valid = False
        rows = 0
        reply: tuple[int, dict[str, str], bytes] | None = None
        fault: _Fault | None = None
        try:
            try:
                access_key = owner.verify("POST", path, self.headers, body, service)
                valid = True
            except _Fault:
                match = re.search(r"Credential=([^/]+)/", self.headers.get("Authorization", ""))
                access_key = match.group(1) if match else None
                raise
            if operation == "InvokeEndpoint":
                assert endpoint is not None
                status, headers, payload, rows = owner.invoke(endpoint, self.headers, body)
                reply = (status, headers, payload)
            elif operation == "AssumeRole":
                reply = (200, {"Content-Type": "text/xml"}, owner.assume_role(access_key, form))
            else:
                answer = owner.control(target or "", body)
                reply = (200, {"Content-Type": "application/x-amz-json-1.1"}, json.dumps(answer).encode())
        except _Fault as exc:
            fault = exc
        except _Drop:
            pass  # reply stays None: the connection is closed without an answer
        except _Garbage:
            reply = (200, {"Content-Type": "application/json"}, b"<html>502 Bad Gateway</html>")
        except Exception as exc:  # a stand-in bug must show up as a reply, not a silent drop
            fault = _Fault(500, "InternalFailure", message=f"stand-in error: {type(exc).__name__}: {exc}")
        # Recorded before replying, so a test that got its answer always finds its request here.
        with owner._lock:
            owner.requests.append(
                Recorded(
                    operation=operation,
                    method="POST",
                    path=path,
                    headers={k: v for k, v in self.headers.items()},
                    body=body,
                    access_key=access_key,
                    signature_valid=valid,
                    endpoint=endpoint,
                    rows=rows,
                )
            )
        if fault is not None:
            self._send_fault(fault, protocol)
        elif reply is not None:
            self._send(*reply)
        else:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@contextmanager
def running(**kw: Any) -> Iterator[SageMakerStandIn]:
    """``with running() as sm:`` - a started stand-in with the lead-scoring endpoints added."""
    standin = SageMakerStandIn(**kw)
    with standin:
        standard_endpoints(standin)
        yield standin


def standard_endpoints(standin: SageMakerStandIn) -> None:
    """The endpoints the tests use: one per reply style, a multi-model one and a two-variant one."""
    standin.add_endpoint("lead-scoring", style="probability")
    standin.add_endpoint("lead-label", style="label")
    standin.add_endpoint("lead-ll", style="linear-learner")
    standin.add_endpoint("lead-object", style="object")
    standin.add_endpoint("revenue", model=REVENUE_MODEL, style="value")
    standin.add_endpoint("lead-ab", variants=("VariantA", "VariantB"))
    standin.add_endpoint(
        "lead-mme",
        target_models={
            "lead-eu.tar.gz": LEAD_MODEL,
            "lead-us.tar.gz": LinearModel(LEAD_FEATURES, (0.2, 0.1, 0.05), bias=0.5),
        },
        components={"lead-ic": LinearModel(LEAD_FEATURES, (-0.4, 0.2, 0.01), bias=0.0)},
    )
