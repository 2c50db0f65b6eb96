"""`MachineApi`: Django's dispatch for the methods a machine endpoint defines, DRF's for the rest."""

import pytest
from django.http import HttpResponse
from rest_framework.request import Request

from wallet.apis import DebitApi

pytestmark = pytest.mark.django_db
UNAUTHORIZED = b'{"status":"UNAUTHORIZED","error":{"code":"UNAUTHORIZED","message":"Authentication failed.","details":null}}'


def test_an_error_is_the_body_drf_views_answer_byte_for_byte(client):
    answer = client.post("/wallet/debit", data=b"{}", content_type="application/json")

    assert (answer.status_code, answer["Content-Type"], answer.content) == (401, "application/json", UNAUTHORIZED)


def test_the_handler_gets_djangos_request(client, monkeypatch):
    seen = []
    monkeypatch.setattr(DebitApi, "post", lambda self, request: seen.append(request) or HttpResponse(status=418))

    answer = client.post("/wallet/debit", data=b"{}", content_type="application/json")

    assert answer.status_code == 418 and len(seen) == 1 and not isinstance(seen[0], Request)


def test_a_method_the_endpoint_does_not_define_goes_through_drf(client):
    answer = client.put("/wallet/debit", data=b"{}", content_type="application/json")
    options = client.options("/wallet/debit")

    assert (answer.status_code, answer.json()["error"]["code"], answer["Allow"]) == (405, "METHOD_NOT_ALLOWED",
                                                                                       "POST, OPTIONS")
    assert options.status_code == 200 and options["Allow"] == "POST, OPTIONS"


def test_an_unexpected_error_is_the_generic_500_body(client, monkeypatch):
    def broken(self, request):
        raise RuntimeError("boom")

    monkeypatch.setattr(DebitApi, "post", broken)

    answer = client.post("/wallet/debit", data=b"{}", content_type="application/json")

    assert (answer.status_code, answer.json()["error"]["code"]) == (500, "INTERNAL_ERROR")
    assert b"boom" not in answer.content
