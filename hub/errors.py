"""The one family of errors that services raise and `hub.exception_handlers` maps to HTTP.

Every error renders as `{"status": CODE, "error": {"code": CODE, "message", "details"}}`.
Subclasses fix the HTTP status; `code` names the precise reason (SPEC error codes).
"""

from typing import Any


class ApplicationError(Exception):
    status_code = 400
    code = "BAD_REQUEST"
    message = "The request could not be processed."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        details: Any = None,
        headers: dict[str, str] | None = None,
        status_code: int | None = None,
    ) -> None:
        self.status_code = status_code or self.status_code
        self.message = message or self.message
        self.code = code or self.code
        self.details = details
        self.headers = headers or {}
        super().__init__(self.message)

    def as_body(self) -> dict[str, Any]:
        return {
            "status": self.code,
            "error": {"code": self.code, "message": self.message, "details": self.details},
        }


class ValidationFailed(ApplicationError):
    status_code = 400
    code = "VALIDATION_ERROR"
    message = "The request body is invalid."


class MalformedJson(ApplicationError):
    status_code = 400
    code = "MALFORMED_JSON"
    message = "The request body is not valid JSON."


class Unauthorized(ApplicationError):
    status_code = 401
    code = "UNAUTHORIZED"
    message = "Authentication failed."


class Forbidden(ApplicationError):
    status_code = 403
    code = "FORBIDDEN"
    message = "You do not have permission to perform this action."


class NotFound(ApplicationError):
    status_code = 404
    code = "NOT_FOUND"
    message = "Not found."


class MethodNotAllowed(ApplicationError):
    status_code = 405
    code = "METHOD_NOT_ALLOWED"
    message = "Method not allowed."


class Conflict(ApplicationError):
    status_code = 409
    code = "CONFLICT"
    message = "The request conflicts with the current state."


class PayloadTooLarge(ApplicationError):
    status_code = 413
    code = "PAYLOAD_TOO_LARGE"
    message = "The request body is too large."


class UnsupportedMediaType(ApplicationError):
    status_code = 415
    code = "UNSUPPORTED_MEDIA_TYPE"
    message = "The request body must be application/json."


class Unprocessable(ApplicationError):
    status_code = 422
    code = "UNPROCESSABLE"
    message = "The request is well-formed but cannot be processed."


class RateLimited(ApplicationError):
    status_code = 429
    code = "RATE_LIMITED"
    message = "Too many requests."


class ServiceUnavailable(ApplicationError):
    status_code = 503
    code = "SERVICE_UNAVAILABLE"
    message = "The service is temporarily unavailable."


class InternalError(ApplicationError):
    status_code = 500
    code = "INTERNAL_ERROR"
    message = "An internal error occurred."
