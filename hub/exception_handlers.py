"""One place that turns exceptions into SPEC's error shape, for DRF views and plain Django."""

import math

import structlog
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError
from django.http import Http404, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import set_rollback

from hub import errors, metrics
from hub.db import database_unavailable, describe_error

logger = structlog.get_logger(__name__)

_DRF_TO_APPLICATION: list[tuple[type[drf.APIException], type[errors.ApplicationError]]] = [
    (drf.ParseError, errors.MalformedJson),
    (drf.NotAuthenticated, errors.Unauthorized),
    (drf.AuthenticationFailed, errors.Unauthorized),
    (drf.PermissionDenied, errors.Forbidden),
    (drf.NotFound, errors.NotFound),
    (drf.MethodNotAllowed, errors.MethodNotAllowed),
    (drf.UnsupportedMediaType, errors.UnsupportedMediaType),
    (drf.Throttled, errors.RateLimited),
]


DATABASE_RETRY_AFTER_SECONDS = 5


def database_outage(route: str) -> errors.ServiceUnavailable:
    metrics.DATABASE_UNAVAILABLE.labels(route).inc()
    return errors.ServiceUnavailable(
        "The database is unavailable; retry later.", headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)}
    )


def to_application_error(exc: Exception, route: str = "") -> errors.ApplicationError:
    """Map any exception to an ApplicationError; a database outage becomes 503 with Retry-After,
    unknown ones a generic 500."""
    if isinstance(exc, errors.ApplicationError):
        return exc
    if database_unavailable(exc):
        logger.warning("database_unavailable", route=route, error=describe_error(exc))
        return database_outage(route)
    if isinstance(exc, RequestDataTooBig):
        return errors.PayloadTooLarge()
    if isinstance(exc, Http404):
        return errors.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return errors.Forbidden()
    if isinstance(exc, DjangoValidationError):
        return errors.ValidationFailed(details=as_serializer_error(exc))
    if isinstance(exc, drf.ValidationError):
        return errors.ValidationFailed(details=exc.detail)
    if isinstance(exc, drf.Throttled):
        wait = math.ceil(getattr(exc, "wait", None) or 1)
        return errors.RateLimited(headers={"Retry-After": str(wait)})
    for drf_class, application_class in _DRF_TO_APPLICATION:
        if isinstance(exc, drf_class):
            return application_class()
    if isinstance(exc, drf.APIException):
        return errors.ApplicationError(
            str(exc.detail), code=str(exc.default_code).upper(), status_code=exc.status_code
        )
    if isinstance(exc, DatabaseError):  # its message may quote row values: no traceback text
        logger.error("unhandled_database_error", error=describe_error(exc))
    else:
        logger.exception("unhandled_exception", exc_type=type(exc).__name__)
    return errors.InternalError()


def route_name(request) -> str:
    match = getattr(request, "resolver_match", None)
    return (match.url_name or match.route) if match else "unmatched"


def exception_handler(exc: Exception, context: dict) -> Response:
    request = context.get("request")
    error = to_application_error(exc, route_name(request) if request is not None else "")
    set_rollback()
    return Response(error.as_body(), status=error.status_code, headers=error.headers)


class DatabaseOutageMiddleware:
    """Plain Django views (admin, metrics) answer a database outage with 503 and Retry-After too;
    DRF views already do through `exception_handler`."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception: Exception) -> JsonResponse | None:
        if not database_unavailable(exception):
            return None
        error = to_application_error(exception, route_name(request))
        response = JsonResponse(error.as_body(), status=error.status_code)
        for name, value in error.headers.items():
            response[name] = value
        return response


def json_not_found(request, exception=None) -> JsonResponse:
    return JsonResponse(errors.NotFound().as_body(), status=404)


def json_server_error(request) -> JsonResponse:
    return JsonResponse(errors.InternalError().as_body(), status=500)
