"""Each fake authenticates its posts to the hub with its own code (issue: a signing bug of the hub's would be
mirrored by a fake that borrowed it, and pass every test). The hub's checks accept what each fake sends, in
every mode the provider has: two implementations that agree, not one used twice."""

import ast
import json

import pytest
from django.conf import settings
from django.http.request import HttpHeaders

from mock_services.delivery_providers import ProviderApiMock
from mock_services.registry import MOCKS
from providers.adapters import ADAPTERS
from providers.auth import authenticated
from providers.config import intake_settings

BODY = json.dumps({"event": "menu.upload_result", "body": {"http_status": 200}}).encode()
MODES = {"careem": ["hmac", "api_key"], "talabat": ["hmac", "api_key", "jwt"], "deliveroo": ["hmac"],
         "ubereats": ["hmac"]}


def sent_headers(provider: str) -> HttpHeaders:
    """What the provider's fake adds to a post of BODY, as the hub's request headers read them."""
    fake = MOCKS[provider]()
    assert isinstance(fake, ProviderApiMock)
    return HttpHeaders({f"HTTP_{k.upper().replace('-', '_')}": v for k, v in fake.authentication_headers(BODY).items()})


def test_mock_services_imports_nothing_of_the_hub_but_hub():
    imported = set()
    for path in (settings.BASE_DIR / "mock_services").rglob("*.py"):  # its tests too
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module.split(".")[0])
            elif isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
    assert not imported & {"providers", "wallet", "webhooks", "reconciliation"}, imported


@pytest.mark.parametrize(("provider", "mode"), [(p, m) for p, modes in MODES.items() for m in modes])
def test_what_each_fake_sends_is_what_the_hub_accepts(provider, mode, monkeypatch):
    monkeypatch.setenv(f"{provider.upper()}_AUTH_MODE", mode)
    headers = sent_headers(provider)

    secret = intake_settings(provider).secret
    assert authenticated(mode=mode, adapter=ADAPTERS[provider], secret=secret, headers=headers, body=BODY)
    if mode == "hmac":  # the signature covers the body: another body is refused
        assert not authenticated(mode=mode, adapter=ADAPTERS[provider], secret=secret, headers=headers,
                                 body=BODY + b" ")


def test_a_fake_signs_with_the_secret_the_environment_names(monkeypatch):
    monkeypatch.setenv("DELIVEROO_WEBHOOK_SECRET", "another-secret-for-this-test")
    headers = sent_headers("deliveroo")

    assert authenticated(mode="hmac", adapter=ADAPTERS["deliveroo"], secret="another-secret-for-this-test",
                         headers=headers, body=BODY)
    assert not authenticated(mode="hmac", adapter=ADAPTERS["deliveroo"], secret=intake_settings("deliveroo").secret,
                             headers=headers, body=BODY)
