"""Schemathesis against the OpenAPI schema: generated requests (signed like a real client would)
over HTTP to a live hub whose Operator is the fake. No 5xx; answers conform to the schema."""

import json
import time

import pytest
import requests
import schemathesis
from django.conf import settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from hub.signing import hex_hmac, secret_list, wallet_signature
from hub.wsgi import application
from providers.models import Provider
from webhooks.tests.factories import DestinationFactory
from providers.config import intake_settings

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


# Loaded from the app itself (WSGI); every documented operation is fuzzed. (Driven through Hypothesis
# directly: schemathesis' own pytest plugin does not run under pytest 9.)
API = schemathesis.openapi.from_wsgi("/api/schema/", application)
OPERATIONS = {result.ok().label: result.ok() for result in API.get_all_operations()}  # type: ignore[union-attr]


def signed_request(case, base_url: str) -> dict:
    """requests' arguments for a generated case, the body serialised once and those exact bytes
    signed, as the RGS (wallet HMAC) and the providers (hmac mode) do."""
    generated = case.as_transport_kwargs(base_url=base_url)  # WSGI-style: path, query_string, json
    body = generated.get("json")
    raw = json.dumps(body).encode() if body is not None else b""
    path = generated["path"]
    headers = {k: str(v) for k, v in (generated.get("headers") or {}).items()}
    if path.startswith("/wallet/"):
        stamp = str(int(time.time()))
        headers.update({"X-Timestamp": stamp, "X-Signature": wallet_signature(
            body=raw, timestamp=stamp, secret=secret_list(settings.WALLET_HMAC_SECRET)[0])})
    for provider in ("careem", "talabat"):
        if path.startswith(f"/api/webhooks/{provider}"):
            secret = intake_settings(provider).secret
            headers[f"x-{provider}-signature"] = hex_hmac(secret=secret, message=raw)
    headers["Content-Type"] = "application/json"
    return {"method": generated["method"], "url": base_url + path, "params": generated.get("query_string") or {},
            "headers": headers, "data": raw}


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_the_api_never_fails_and_answers_as_documented(label, live_server, operator_mock, settings):
    settings.OPERATOR_BASE_URL = operator_mock.url
    settings.OPERATOR_RETRY_DEADLINE_SECONDS = 1
    settings.WEBHOOK_RATE_LIMIT = 10_000
    Provider.objects.create(name="careem")
    Provider.objects.create(name="talabat")
    DestinationFactory(name="rgs")
    DestinationFactory(name="backend")

    @given(case=OPERATIONS[label].as_strategy())
    @hypothesis_settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case) -> None:
        response = requests.request(**signed_request(case, live_server.url), timeout=30)
        case.validate_response(response, checks=CHECKS)

    check()
