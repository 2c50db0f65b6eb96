"""Every secret the hub presents rotates without downtime (docs/RUNBOOK.md, "Rotating secrets"). During the
window the other side takes the old and the new (the fakes do as a real receiver does: "new,old" in their
setting), the hub presents the first of its setting, and a process not yet restarted, still presenting the
old one, is accepted too. The secrets the hub checks have their tests beside their checks (wallet, intake,
locations)."""

import json

import pytest
from werkzeug.test import Client as WsgiClient

from mock_services.backend import BackendMock
from mock_services.delivery_providers import CareemMock, TalabatMock
from mock_services.deliveroo import DeliverooMock
from mock_services.operator import OperatorMock
from mock_services.ubereats import UberEatsMock
from providers.adapters import ADAPTERS, careem, deliveroo, talabat, ubereats
from wallet.tests.conftest import operator  # noqa: F401, F811  (the Operator's API, scripted)
from wallet.tests.helpers import debit_body, wallet_post
from webhooks.destinations import destinations_sync_from_env
from webhooks.models import Destination

pytestmark = pytest.mark.django_db
WINDOW = "new-rotated-key,old-rotated-key"


def test_operator_api_key_the_hub_presents_the_new_and_the_operator_takes_both_in_the_window(client, operator, settings):  # noqa: F811
    settings.OPERATOR_API_KEY = WINDOW
    operator.post("http://operator.test/api/v1/wallet/withdraw", json={
        "transaction_id": "x", "operator_tx_id": "op-1", "status": "approved", "balance": "87.66", "currency": "USD"})

    assert wallet_post(client, "debit", debit_body("rotation-1")).status_code == 201
    assert operator.calls[0].request.headers["Authorization"] == "Bearer new-rotated-key"

    fake = WsgiClient(OperatorMock(api_key=WINDOW))
    answers = [fake.get("/api/v1/wallet/balance/p1?currency=USD", headers={"Authorization": f"Bearer {key}"}).status_code
               for key in ("new-rotated-key", "old-rotated-key", "other-key")]
    assert answers[2] == 401 and 401 not in answers[:2]


def test_backend_api_key_the_destination_presents_the_new_and_the_backend_takes_both_in_the_window(monkeypatch, settings):
    monkeypatch.setenv("BACKEND_API_KEY", WINDOW)
    settings.BACKEND_API_KEY = WINDOW

    destinations_sync_from_env()

    assert Destination.objects.get(name="backend").auth_header_value == "new-rotated-key"
    fake = WsgiClient(BackendMock(api_key=WINDOW))
    order = json.dumps({"type": "order.created", "data": {"id": "o-1"}})
    answers = [fake.post("/api/v1/orders", data=order, headers={"X-AUTH": key, "Content-Type": "application/json"}).status_code
               for key in ("new-rotated-key", "old-rotated-key", "other-key")]
    assert answers[2] == 401 and 401 not in answers[:2]


@pytest.mark.parametrize(("provider", "module", "fake", "setting", "field"), [
    ("careem", careem, CareemMock, "CAREEM_CLIENT_SECRET", "client_secret"),
    ("deliveroo", deliveroo, DeliverooMock, "DELIVEROO_CLIENT_SECRET", "client_secret"),
    ("ubereats", ubereats, UberEatsMock, "UBEREATS_CLIENT_SECRET", "client_secret"),
    ("talabat", talabat, TalabatMock, "TALABAT_MIDDLEWARE_PASSWORD", "password"),
])
def test_a_provider_credential_the_hub_logs_in_with_the_new_and_the_provider_takes_both_in_the_window(
        settings, monkeypatch, provider, module, fake, setting, field):
    setattr(settings, setting, WINDOW)
    forms = []
    monkeypatch.setattr(module, "login_with", lambda url, form: forms.append(form))

    ADAPTERS[provider].login()

    assert forms[0][field] == "new-rotated-key"
    other = "username" if field == "password" else "client_id"
    service = fake(credentials={other: "the-client", field: WINDOW}, token_seconds=60)
    app = WsgiClient(service)
    token_path = next(route.rule for route in service.routes() if route.handler == service.issue_token)
    answers = [app.post(token_path, data={"grant_type": "client_credentials", other: "the-client", field: key}).status_code
               for key in ("new-rotated-key", "old-rotated-key", "other-key")]
    assert answers == [200, 200, 401]


def test_django_secret_key_an_admin_session_signed_with_the_old_key_stays_valid_in_the_window(settings):
    from django.core import signing

    settings.SECRET_KEY = "old-django-secret-key-of-enough-length-0123456789"
    token = signing.dumps({"session": "admin"})
    settings.SECRET_KEY = "new-django-secret-key-of-enough-length-0123456789"
    settings.SECRET_KEY_FALLBACKS = ["old-django-secret-key-of-enough-length-0123456789"]

    assert signing.loads(token) == {"session": "admin"}
    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(signing.BadSignature):
        signing.loads(token)
