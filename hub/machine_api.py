"""The base view of the machine-to-machine endpoints: the wallet API and provider intake."""

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView, set_rollback

from hub import errors
from hub.exception_handlers import route_name, to_application_error


def error_response(error: errors.ApplicationError) -> HttpResponse:
    """The error as DRF's views answer it (`hub.exception_handlers.exception_handler`), byte for byte."""
    response = HttpResponse(JSONRenderer().render(error.as_body()), status=error.status_code,
                            content_type="application/json")
    for name, value in error.headers.items():
        response[name] = value
    return response


class MachineApi(APIView):
    """A DRF view class, so that the OpenAPI schema describes the endpoint as it does the others, with
    Django's dispatch for the methods it defines. Each such endpoint checks its caller itself (a
    signature over the raw body) and reads the raw body: DRF's request wrapper, content negotiation,
    authentication, permission and throttle classes had nothing to do for it but cost about 5 % of a
    debit's CPU (docs/PERFORMANCE.md). Its handlers get Django's request; errors become the same body
    as in DRF's views. Other methods (OPTIONS, or one it does not define: 405 with Allow) go through DRF."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        method = (request.method or "").lower()
        handler = getattr(self, method, None) if method in self.http_method_names and method != "options" else None
        if handler is None:
            return super().dispatch(request, *args, **kwargs)
        self.args, self.kwargs, self.headers = args, kwargs, {}  # as DRF's dispatch sets them
        self.request = request  # type: ignore[assignment]  # Django's request: no DRF wrapper here
        try:
            return handler(request, *args, **kwargs)
        except Exception as exc:
            set_rollback()
            return error_response(to_application_error(exc, route_name(request)))
