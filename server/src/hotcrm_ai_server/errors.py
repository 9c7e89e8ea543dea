"""Errors as the protocol reports them: an HTTP status for REST, a status code for gRPC, and one
message (``{"error": "..."}``). Our typed core errors map onto them in one place."""

from __future__ import annotations

from hotcrm_ai.errors import (
    CircuitOpenError,
    ConfigError,
    ExplanationError,
    HotCRMAIError,
    ModelInactiveError,
    ModelNotFoundError,
    PredictionError,
    ProviderError,
    ReportingError,
    ValidationError,
)


class ServerError(Exception):
    """An error with its protocol status. ``grpc_code`` is a ``grpc.StatusCode`` member name."""

    status = 500
    grpc_code = "INTERNAL"

    def __init__(self, message: str, *, status: int | None = None, grpc_code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        if grpc_code is not None:
            self.grpc_code = grpc_code


class BadRequest(ServerError):
    status, grpc_code = 400, "INVALID_ARGUMENT"


class Unauthenticated(ServerError):
    status, grpc_code = 401, "UNAUTHENTICATED"


class Forbidden(ServerError):
    status, grpc_code = 403, "PERMISSION_DENIED"


class NotFound(ServerError):
    status, grpc_code = 404, "NOT_FOUND"


class Conflict(ServerError):
    status, grpc_code = 409, "FAILED_PRECONDITION"


class TooLarge(ServerError):
    status, grpc_code = 413, "RESOURCE_EXHAUSTED"


class Unavailable(ServerError):
    status, grpc_code = 503, "UNAVAILABLE"


class Timeout(ServerError):
    status, grpc_code = 504, "DEADLINE_EXCEEDED"


def to_server_error(exc: BaseException) -> ServerError:
    """The protocol error for any exception; messages of our typed errors never carry secrets."""
    if isinstance(exc, ServerError):
        return exc
    if isinstance(exc, ValidationError):
        return BadRequest(str(exc))
    if isinstance(exc, ModelNotFoundError):
        return NotFound(str(exc))
    if isinstance(exc, ModelInactiveError):
        return Conflict(str(exc))
    if isinstance(exc, (ReportingError, ExplanationError)):
        return BadRequest(str(exc))
    if isinstance(exc, CircuitOpenError) or (isinstance(exc, ProviderError) and exc.retryable):
        return Unavailable(str(exc))
    if isinstance(exc, PredictionError):
        cause = exc.cause
        if cause is not None and not isinstance(cause, PredictionError):
            mapped = to_server_error(cause)
            if mapped.status != 500:
                return type(mapped)(str(exc), status=mapped.status, grpc_code=mapped.grpc_code)
        return ServerError(str(exc), status=502, grpc_code="UNAVAILABLE")
    if isinstance(exc, ProviderError):
        return ServerError(str(exc), status=502, grpc_code="UNAVAILABLE")
    if isinstance(exc, ConfigError):
        return ServerError(str(exc))
    if isinstance(exc, HotCRMAIError):
        return ServerError(str(exc))
    return ServerError(f"internal error ({type(exc).__name__})")
