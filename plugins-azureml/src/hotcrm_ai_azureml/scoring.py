"""The scoring call on the wire: one HTTPS POST to a managed online endpoint's scoring URI.

``requests`` (already a dependency of azure-ai-ml, so no extra weight) gives pooled keep-alive connections
per provider; it is imported on first call so that loading the plugin stays cheap. Transport failures
become typed errors here; HTTP statuses are judged by the caller (``errors.error_for_status``).
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

import attrs

from hotcrm_ai.errors import ProviderConnectionError, ProviderRequestError, ProviderTimeoutError
from hotcrm_ai_azureml.errors import PROVIDER, redact

if TYPE_CHECKING:
    import requests

DEPLOYMENT_HEADER = "azureml-model-deployment"
DEFAULT_CONNECT_TIMEOUT_S = 10.0


@attrs.frozen
class Reply:
    status: int
    headers: dict[str, str]
    content: bytes
    latency_ms: float

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def request_id(self) -> str | None:
        return self.headers.get("x-request-id") or self.headers.get("x-ms-request-id")


class ScoringClient:
    """A pooled HTTP client for one provider instance; safe to share between threads."""

    def __init__(
        self, *, pool_size: int = 16, verify: bool | str = True, user_agent: str = "hotcrm-ai-azureml"
    ) -> None:
        self._pool_size = pool_size
        self._verify = verify
        self._user_agent = user_agent
        self._session: requests.Session | None = None
        self._lock = threading.Lock()

    def _get_session(self) -> requests.Session:
        if self._session is None:
            with self._lock:
                if self._session is None:
                    import requests
                    from requests.adapters import HTTPAdapter

                    session = requests.Session()
                    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=self._pool_size, max_retries=0)
                    session.mount("http://", adapter)
                    session.mount("https://", adapter)
                    session.verify = self._verify
                    session.trust_env = True
                    self._session = session
        return self._session

    def request(
        self,
        method: str,
        url: str,
        *,
        bearer: str,
        body: bytes | None = None,
        deployment: str | None = None,
        timeout_s: float = 30.0,
        what: str = "",
    ) -> Reply:
        """One attempt. Raises ProviderTimeoutError / ProviderConnectionError / ProviderRequestError, with
        the bearer value scrubbed from every message; any HTTP status is returned, not raised."""
        import requests

        headers = {"Authorization": f"Bearer {bearer}", "Accept": "application/json", "User-Agent": self._user_agent}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if deployment:
            headers[DEPLOYMENT_HEADER] = deployment
        timeout = (min(timeout_s, DEFAULT_CONNECT_TIMEOUT_S), timeout_s)
        start = time.perf_counter()
        try:
            resp = self._get_session().request(
                method, url, data=body, headers=headers, timeout=timeout, allow_redirects=False
            )
            content = resp.content
        except requests.exceptions.Timeout as exc:
            raise ProviderTimeoutError(
                f"Azure ML prediction failed: no reply within {timeout_s:g} s ({what}): {_reason(exc, bearer)}",
                provider=PROVIDER,
            ) from None
        except requests.exceptions.ConnectionError as exc:
            raise ProviderConnectionError(
                f"Azure ML prediction failed: cannot connect ({what}): {_reason(exc, bearer)}", provider=PROVIDER
            ) from None
        except requests.exceptions.RequestException as exc:
            raise ProviderRequestError(
                f"Azure ML prediction failed: invalid request ({what}): {_reason(exc, bearer)}", provider=PROVIDER
            ) from None
        latency_ms = (time.perf_counter() - start) * 1000.0
        return Reply(
            status=resp.status_code,
            headers={k.lower(): v for k, v in resp.headers.items()},
            content=content,
            latency_ms=latency_ms,
        )

    def close(self) -> None:
        with self._lock:
            if self._session is not None:
                self._session.close()
                self._session = None


def _reason(exc: BaseException, bearer: str) -> str:
    """The innermost useful cause, short and without the credential."""
    inner: Any = exc
    while inner.__context__ is not None and inner.__context__ is not inner and len(str(inner)) > 300:
        inner = inner.__context__
    text = type(inner).__name__ + (f": {inner}" if str(inner) else "")
    text = redact(text, [bearer])
    return text if len(text) <= 300 else text[:297] + "..."
