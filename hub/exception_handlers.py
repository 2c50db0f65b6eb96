"""One place that turns exceptions into SPEC's error shape, for DRF views and plain Django."""

import math

import structlog
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import set_rollback

from hub import errors

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


def to_application_error(exc: Exception) -> errors.ApplicationError:
    """Map any exception to an ApplicationError; unknown ones become a generic 500."""
    if isinstance(exc, errors.ApplicationError):
        return exc
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
        wait = math.ceil(exc.wait or 1)
        return errors.RateLimited(headers={"Retry-After": str(wait)})
    for drf_class, application_class in _DRF_TO_APPLICATION:
        if isinstance(exc, drf_class):
            return application_class()
    if isinstance(exc, drf.APIException):
        return errors.ApplicationError(
            str(exc.detail), code=str(exc.default_code).upper(), status_code=exc.status_code
        )
    logger.exception("unhandled_exception", exc_type=type(exc).__name__)
    return errors.InternalError()


def exception_handler(exc: Exception, context: dict) -> Response:
    error = to_application_error(exc)
    set_rollback()
    return Response(error.as_body(), status=error.status_code, headers=error.headers)


def json_not_found(request, exception=None) -> JsonResponse:
    return JsonResponse(errors.NotFound().as_body(), status=404)


def json_server_error(request) -> JsonResponse:
    return JsonResponse(errors.InternalError().as_body(), status=500)
