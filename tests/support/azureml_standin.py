"""Local stand-ins for Azure ML: a managed online endpoint's scoring server and the ARM workspace API.

``ScoringStandin`` speaks the scoring protocol of a managed online endpoint: ``POST /score`` with
``Authorization: Bearer <key>`` and an optional ``azureml-model-deployment`` header, both payload shapes
(the original's ``{"data": [...], "method": "predict"}`` and MLflow's ``{"input_data": {...}}``), a
liveness route ``GET /``, and a real model per deployment (fixed-weight logistic regression in numpy:
the score depends on the input). Faults are queued and consumed one request at a time.

``ArmStandin`` answers the three ARM calls azure-ai-ml's ``MLClient`` makes to resolve an endpoint:
``GET .../onlineEndpoints/<name>``, ``GET .../onlineEndpoints/<name>/deployments`` and
``POST .../onlineEndpoints/<name>/listKeys`` (plus ``/token`` for aml_token endpoints), checking the ARM
bearer token. Point MLClient at it with ``AZUREML_DEV_URL_MFE=<arm.url>`` or ``resource_manager_url``.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import attrs
import numpy as np

# --------------------------------------------------------------------------------------------- model


@attrs.frozen
class LogisticModel:
    """p = sigmoid(w . x + b) over named numeric features (booleans count as 0/1)."""

    features: tuple[str, ...]
    weights: tuple[float, ...]
    bias: float

    def matrix(self, rows: Sequence[dict[str, Any]]) -> np.ndarray:
        out = np.empty((len(rows), len(self.features)), dtype=float)
        for i, row in enumerate(rows):
            for j, name in enumerate(self.features):
                if name not in row:
                    raise KeyError(name)
                value = row[name]
                if isinstance(value, bool):
                    value = float(value)
                if not isinstance(value, (int, float)):
                    raise TypeError(f"{name}: expected a number, got {type(value).__name__}")
                out[i, j] = value
        return out

    def predict_proba(self, rows: Sequence[dict[str, Any]]) -> np.ndarray:
        z = self.matrix(rows) @ np.asarray(self.weights) + self.bias
        return 1.0 / (1.0 + np.exp(-z))


LEAD_FEATURES = ("engagement", "visits", "budget_k", "referral")
BLUE = LogisticModel(LEAD_FEATURES, (2.2, 0.12, 0.004, 0.9), -2.4)
GREEN = LogisticModel(LEAD_FEATURES, (1.1, 0.30, 0.010, -0.6), -1.3)


# --------------------------------------------------------------------------------------------- faults


@attrs.define
class Fault:
    """One injected misbehaviour for the next matching request."""

    status: int | None = None
    body: bytes | str | dict[str, Any] | list[Any] | None = None
    headers: dict[str, str] = attrs.field(factory=dict)
    delay_s: float = 0.0
    path: str | None = None  # only requests whose path starts with this


@attrs.frozen
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def deployment(self) -> str | None:
        return self.headers.get("azureml-model-deployment")

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")


class _Server:
    """A ThreadingHTTPServer on 127.0.0.1:<free port> in a daemon thread, with request recording."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def setup(self) -> None:
                super().setup()
                # headers and body go out in separate writes; without NODELAY, delayed ACKs add ~40 ms
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                rec = Recorded(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                with outer._lock:
                    outer.requests.append(rec)
                fault = outer._take_fault(self.path)
                if fault is not None:
                    if fault.delay_s:
                        time.sleep(fault.delay_s)
                    if fault.status is not None or fault.body is not None:
                        self.reply(
                            fault.status or 200,
                            fault.body if fault.body is not None else {"error": "injected"},
                            fault.headers,
                        )
                        return
                status, payload, headers = outer.route(rec)
                self.reply(status, payload, headers)

            def reply(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
                if isinstance(payload, bytes):
                    data, ctype = payload, "application/octet-stream"
                elif isinstance(payload, str):
                    data, ctype = payload.encode(), "text/plain; charset=utf-8"
                else:
                    data, ctype = json.dumps(payload).encode(), "application/json"
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout tests)
                    pass

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name=type(self).__name__, daemon=True
        )
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def inject(self, fault: Fault, times: int = 1) -> None:
        with self._lock:
            self._faults.extend([fault] * times)

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for i, fault in enumerate(self._faults):
                if fault.path is None or path.startswith(fault.path):
                    del self._faults[i]
                    return fault
        return None

    def route(self, rec: Recorded) -> tuple[int, Any, dict[str, str]]:
        raise NotImplementedError

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


# --------------------------------------------------------------------------------------------- scoring


class ScoringStandin(_Server):
    """A managed online endpoint: ``POST /score``, deployments blue (default) and green."""

    def __init__(
        self,
        *,
        keys: tuple[str, str] = ("primary-key-0123456789abcdef", "secondary-key-fedcba9876543210"),
        deployments: dict[str, LogisticModel] | None = None,
        default_deployment: str = "blue",
        max_body_bytes: int = 1_500_000,
        confidence: bool = True,
    ) -> None:
        self.keys = keys
        self.deployments = deployments or {"blue": BLUE, "green": GREEN}
        self.default_deployment = default_deployment
        self.max_body_bytes = max_body_bytes
        self.confidence = confidence
        super().__init__()

    @property
    def scoring_uri(self) -> str:
        return f"{self.base_url}/score"

    def rotate_keys(self, primary: str, secondary: str) -> None:
        self.keys = (primary, secondary)

    def scores(self, rows: Sequence[dict[str, Any]], deployment: str | None = None) -> list[float]:
        """What the endpoint computes for these rows (the same model; for expected values in tests)."""
        return [float(p) for p in self.deployments[deployment or self.default_deployment].predict_proba(rows)]

    def scoring_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST"]

    def route(self, rec: Recorded) -> tuple[int, Any, dict[str, str]]:
        auth = rec.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or auth[len("Bearer ") :] not in self.keys:
            return 401, {"message": "Unauthorized: key or token invalid"}, {"www-authenticate": "Bearer"}
        if rec.method == "GET" and rec.path == "/":
            return 200, "Healthy", {}
        if rec.method != "POST" or rec.path.split("?")[0] != "/score":
            return 404, {"message": f"no route {rec.method} {rec.path}"}, {}
        deployment = rec.headers.get("azureml-model-deployment") or self.default_deployment
        if deployment not in self.deployments:
            return 404, {"message": f"deployment {deployment} not found"}, {}
        if len(rec.body) > self.max_body_bytes:
            return 413, {"message": "request body too large"}, {}
        if not rec.headers.get("content-type", "").startswith("application/json"):
            return 415, {"message": "expected application/json"}, {}
        try:
            doc = json.loads(rec.body)
        except ValueError:
            return 400, {"message": "body is not JSON"}, {}
        headers = {"azureml-model-deployment": deployment, "x-request-id": f"req-{len(self.requests)}"}
        model = self.deployments[deployment]
        try:
            if isinstance(doc, dict) and "input_data" in doc:
                cols = doc["input_data"]["columns"]
                rows = [dict(zip(cols, values, strict=True)) for values in doc["input_data"]["data"]]
                return 200, [float(p) for p in model.predict_proba(rows)], headers
            if isinstance(doc, dict) and doc.get("method") == "predict" and isinstance(doc.get("data"), list):
                probs = model.predict_proba(doc["data"])
                reply: dict[str, Any] = {"result": [float(p) for p in probs]}
                if self.confidence:
                    reply["confidence"] = [float(max(p, 1 - p) * 100) for p in probs]
                return 200, reply, headers
        except KeyError as exc:
            return 424, {"message": f"model error: missing feature {exc.args[0]}"}, headers
        except (TypeError, ValueError) as exc:
            return 424, {"message": f"model error: {exc}"}, headers
        return 400, {"message": "expected {data, method} or {input_data}"}, {}


# --------------------------------------------------------------------------------------------- ARM


class FakeCredential:
    """A TokenCredential (azure.core protocol) handing out a fixed ARM token; counts calls."""

    def __init__(self, token: str = "arm-token-for-tests") -> None:
        self.token = token
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        self.scopes.append(scopes)
        return AccessToken(self.token, int(time.time()) + 3600)


@attrs.define
class ArmEndpoint:
    name: str
    scoring_uri: str
    keys: Callable[[], tuple[str, str]]
    auth_mode: str = "Key"
    provisioning_state: str = "Succeeded"
    traffic: dict[str, int] = attrs.field(factory=lambda: {"blue": 100})


_ENDPOINT_PATH = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/Microsoft\.MachineLearningServices"
    r"/workspaces/(?P<ws>[^/]+)/onlineEndpoints/(?P<name>[^/?]+)(?P<rest>/[^?]*)?(?:\?.*)?$"
)


class ArmStandin(_Server):
    """The Azure Resource Manager calls behind ``online_endpoints.get`` and ``get_keys``."""

    def __init__(
        self,
        *,
        subscription_id: str = "00000000-1111-2222-3333-444444444444",
        resource_group: str = "crm-rg",
        workspace_name: str = "crm-ws",
        token: str = "arm-token-for-tests",
    ) -> None:
        self.subscription_id = subscription_id
        self.resource_group = resource_group
        self.workspace_name = workspace_name
        self.token = token
        self.endpoints: dict[str, ArmEndpoint] = {}
        super().__init__()

    @property
    def url(self) -> str:
        return self.base_url

    def add_endpoint(self, name: str, scoring: ScoringStandin, **kw: Any) -> ArmEndpoint:
        ep = ArmEndpoint(name=name, scoring_uri=scoring.scoring_uri, keys=lambda: scoring.keys, **kw)
        self.endpoints[name] = ep
        return ep

    def calls(self, kind: str) -> list[Recorded]:
        """kind: 'get' (endpoint), 'deployments', 'listKeys', 'token'."""
        out = []
        for r in self.requests:
            m = _ENDPOINT_PATH.match(r.path)
            if not m:
                continue
            rest = (m.group("rest") or "").strip("/")
            if (kind == "get" and not rest and r.method == "GET") or rest == kind:
                out.append(r)
        return out

    def _error(self, status: int, code: str, message: str) -> tuple[int, Any, dict[str, str]]:
        return status, {"error": {"code": code, "message": message}}, {"x-ms-request-id": "arm-req"}

    def route(self, rec: Recorded) -> tuple[int, Any, dict[str, str]]:
        if rec.headers.get("authorization") != f"Bearer {self.token}":
            return self._error(401, "InvalidAuthenticationToken", "The access token is invalid.")
        m = _ENDPOINT_PATH.match(rec.path)
        if not m or "api-version=" not in rec.path:
            return self._error(404, "NotFound", f"no route {rec.path}")
        if (m.group("sub"), m.group("rg"), m.group("ws")) != (
            self.subscription_id,
            self.resource_group,
            self.workspace_name,
        ):
            return self._error(404, "ResourceNotFound", "workspace not found")
        ep = self.endpoints.get(m.group("name"))
        if ep is None:
            return self._error(404, "ResourceNotFound", f"online endpoint {m.group('name')} not found")
        rest = (m.group("rest") or "").strip("/")
        base = rec.path.split("?")[0].rsplit("/" + rest, 1)[0] if rest else rec.path.split("?")[0]
        if rec.method == "GET" and not rest:
            return (
                200,
                {
                    "id": base,
                    "name": ep.name,
                    "type": "Microsoft.MachineLearningServices/workspaces/onlineEndpoints",
                    "location": "westeurope",
                    "tags": {},
                    "properties": {
                        "authMode": ep.auth_mode,
                        "description": "stand-in endpoint",
                        "scoringUri": ep.scoring_uri,
                        "swaggerUri": ep.scoring_uri.rsplit("/", 1)[0] + "/swagger.json",
                        "provisioningState": ep.provisioning_state,
                        "traffic": ep.traffic,
                        "properties": {},
                    },
                },
                {},
            )
        if rec.method == "GET" and rest == "deployments":
            return 200, {"value": []}, {}
        if rec.method == "POST" and rest == "listKeys":
            primary, secondary = ep.keys()
            return 200, {"primaryKey": primary, "secondaryKey": secondary}, {}
        if rec.method == "POST" and rest == "token":
            primary, _ = ep.keys()
            now = int(time.time())
            return (
                200,
                {
                    "accessToken": primary,
                    "expiryTimeUtc": now + 3600,
                    "refreshAfterTimeUtc": now + 1800,
                    "tokenType": "Bearer",
                },
                {},
            )
        return self._error(404, "NotFound", f"no route {rec.method} {rec.path}")


@contextmanager
def standins() -> Iterator[tuple[ScoringStandin, ArmStandin]]:
    """A scoring stand-in and an ARM stand-in that knows it as endpoint ``lead-endpoint``."""
    with ScoringStandin() as scoring, ArmStandin() as arm:
        arm.add_endpoint("lead-endpoint", scoring)
        yield scoring, arm
