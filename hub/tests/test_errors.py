import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions as drf

from hub import errors
from hub.exception_handlers import exception_handler


def handle(exc: Exception):
    response = exception_handler(exc, {})
    return response.status_code, response.data, response


def test_application_error_renders_the_spec_shape_with_headers():
    status, body, response = handle(
        errors.ServiceUnavailable("Operator down.", code="OPERATOR_UNAVAILABLE", details={"attempts": 4},
                                  headers={"Retry-After": "5"})
    )

    assert status == 503
    assert body == {
        "status": "OPERATOR_UNAVAILABLE",
        "error": {"code": "OPERATOR_UNAVAILABLE", "message": "Operator down.", "details": {"attempts": 4}},
    }
    assert response["Retry-After"] == "5"


def test_drf_validation_errors_keep_every_field_error():
    status, body, _ = handle(drf.ValidationError({"amountCents": ["Must be an integer."], "refId": ["Required."]}))

    assert status == 400
    assert body["error"]["code"] == "VALIDATION_ERROR"
    assert body["error"]["details"] == {"amountCents": ["Must be an integer."], "refId": ["Required."]}


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (drf.ParseError(), 400, "MALFORMED_JSON"),
        (drf.NotAuthenticated(), 401, "UNAUTHORIZED"),
        (drf.AuthenticationFailed("Signature mismatch for key 3"), 401, "UNAUTHORIZED"),
        (drf.PermissionDenied(), 403, "FORBIDDEN"),
        (PermissionDenied(), 403, "FORBIDDEN"),
        (Http404(), 404, "NOT_FOUND"),
        (drf.MethodNotAllowed("DELETE"), 405, "METHOD_NOT_ALLOWED"),
        (drf.UnsupportedMediaType("text/plain"), 415, "UNSUPPORTED_MEDIA_TYPE"),
        (drf.NotAcceptable(), 406, "NOT_ACCEPTABLE"),
    ],
)
def test_framework_exceptions_map_to_stable_codes(exc, status, code):
    got_status, body, _ = handle(exc)

    assert (got_status, body["status"], body["error"]["code"]) == (status, code, code)


def test_auth_failures_do_not_leak_the_reason():
    _, body, _ = handle(drf.AuthenticationFailed("Signature mismatch for key 3"))

    assert body["error"]["message"] == "Authentication failed."


def test_throttled_carries_retry_after():
    status, _, response = handle(drf.Throttled(wait=2.2))

    assert (status, response["Retry-After"]) == (429, "3")


def test_unexpected_exceptions_become_a_generic_500_without_details():
    status, body, _ = handle(KeyError("secret-internal-detail"))

    assert status == 500
    assert body == {"status": "INTERNAL_ERROR", "error": {"code": "INTERNAL_ERROR",
                                                          "message": "An internal error occurred.", "details": None}}


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("path", ["/no/such/page", "/wallet/nope", "/api/webhooks/careem/x/y", "/api/orders/1/accept",
                                  "/health/x", "/"])
def test_unknown_urls_answer_json_404_in_every_mode(client, settings, debug, path):
    settings.DEBUG = debug  # `make run` runs with DEBUG on

    answer = client.post(path) if "orders" in path else client.get(path)

    assert answer.status_code == 404 and answer["Content-Type"] == "application/json"
    assert answer.json()["error"]["code"] == "NOT_FOUND"
