"""botocore exceptions -> hotcrm_ai's typed provider errors, with ``retryable`` decided by type.

Imported only once a provider exists (it imports botocore). Messages carry the AWS error code and
message, the container's own message for ModelError, and never a credential: every known secret
value is scrubbed from the text before it is raised.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from botocore import exceptions as bx
from botocore.parsers import ResponseParserError

from hotcrm_ai.errors import (
    ProviderAuthError,
    ProviderConnectionError,
    ProviderError,
    ProviderModelError,
    ProviderRateLimitError,
    ProviderRequestError,
    ProviderResponseError,
    ProviderServerError,
    ProviderTimeoutError,
)
from hotcrm_ai.secrets import redact

PROVIDER = "aws-sagemaker"

_AUTH_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "InvalidClientTokenId",
        "MissingAuthenticationToken",
        "MissingAuthenticationTokenException",
        "ExpiredToken",
        "ExpiredTokenException",
        "RequestExpired",
        "NotAuthorized",
    }
)
_THROTTLE_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
        "SlowDown",
    }
)
_SERVER_CODES = frozenset(
    {
        "ServiceUnavailable",
        "InternalFailure",
        "InternalServerError",
        "InternalDependencyException",
        "ModelNotReadyException",
    }
)


def map_exception(exc: BaseException, *, action: str, secrets: Iterable[str] = ()) -> ProviderError | None:
    """The typed error for a botocore exception, or None when it is not one of botocore's."""
    secrets = tuple(secrets)

    def build(cls: type[ProviderError], message: str, **kw: Any) -> ProviderError:
        return cls(redact(f"{action}: {message}", secrets), provider=PROVIDER, **kw)

    if isinstance(exc, bx.ClientError):
        return _client_error(exc, build)
    if isinstance(exc, (bx.ReadTimeoutError, bx.ConnectTimeoutError)):
        kind = "read" if isinstance(exc, bx.ReadTimeoutError) else "connect"
        return build(ProviderTimeoutError, f"{kind} timeout ({exc})")
    if isinstance(exc, bx.ResponseStreamingError):
        return build(ProviderConnectionError, f"the reply stream broke ({exc})")
    if isinstance(exc, (bx.EndpointConnectionError, bx.ConnectionClosedError, bx.HTTPClientError)):
        return build(ProviderConnectionError, f"could not reach the endpoint ({exc})")
    if isinstance(
        exc, (bx.NoCredentialsError, bx.PartialCredentialsError, bx.CredentialRetrievalError, bx.ProfileNotFound)
    ):
        return build(ProviderAuthError, f"no usable AWS credentials ({type(exc).__name__})")
    if isinstance(exc, bx.NoRegionError):
        return build(
            ProviderRequestError, "no AWS region configured (set region in [providers.aws-sagemaker] or AWS_REGION)"
        )
    if isinstance(exc, bx.ParamValidationError):
        return build(ProviderRequestError, f"the request is invalid ({exc})")
    if isinstance(exc, ResponseParserError):
        return build(ProviderResponseError, f"the reply could not be parsed ({type(exc).__name__})")
    if isinstance(exc, bx.BotoCoreError):
        return build(ProviderError, f"{type(exc).__name__}: {exc}")
    return None


def _client_error(exc: bx.ClientError, build: Any) -> ProviderError:
    response: dict[str, Any] = exc.response or {}
    error = response.get("Error", {}) or {}
    code = str(error.get("Code", "") or "")
    message = str(error.get("Message", "") or "")
    meta = response.get("ResponseMetadata", {}) or {}
    status = meta.get("HTTPStatusCode")
    details: dict[str, Any] = {"code": code}
    if meta.get("RequestId"):
        details["request_id"] = meta["RequestId"]
    if code == "ModelError" or status == 424:  # 424 is SageMaker's ModelError, whatever the code parsed
        original = response.get("OriginalMessage")
        original_status = response.get("OriginalStatusCode")
        details.update(
            original_message=original, original_status=original_status, log_stream_arn=response.get("LogStreamArn")
        )
        said = original or message
        if original and message and original not in message:
            said = f"{original} ({message})"
        where = f", container status {original_status}" if original_status is not None else ""
        text = f"the model container failed (ModelError{where}): {said}"
        return build(ProviderModelError, text, status=status, retryable=False, details=details)
    text = f"{code or 'error'} ({status}): {message}" if status else f"{code}: {message}"
    if code in _AUTH_CODES or status in (401, 403):
        return build(ProviderAuthError, text, status=status, details=details)
    if code in _THROTTLE_CODES or (status == 429 and code != "ModelNotReadyException"):
        return build(ProviderRateLimitError, text, status=status, details=details)
    if code in _SERVER_CODES or (isinstance(status, int) and status >= 500):
        return build(ProviderServerError, text, status=status, details=details)
    return build(ProviderRequestError, text, status=status, details=details)
