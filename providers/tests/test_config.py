"""A provider's intake settings come from its adapter and `<NAME>_…` variables; production refuses demo secrets."""

from typing import ClassVar

import pytest

from providers import config
from providers.adapters import ADAPTERS
from providers.adapters.base import ProviderAdapter
from providers.config import check_provider_secrets, intake_settings


class StubAdapter(ProviderAdapter):
    name = "stubfood"
    auth_mode = "api_key"
    default_currency = "AED"
    dev_secret = "dev-insecure-stubfood-secret"
    statuses: ClassVar[dict[str, str]] = {}
    routes: ClassVar[dict] = {}


@pytest.fixture
def stub_provider(monkeypatch):
    monkeypatch.setitem(ADAPTERS, "stubfood", StubAdapter())
    intake_settings.cache_clear()
    yield
    intake_settings.cache_clear()


@pytest.mark.usefixtures("stub_provider")
def test_a_registered_adapter_gets_its_settings_from_its_own_defaults():
    assert intake_settings("stubfood") == config.IntakeSettings(
        auth_mode="api_key", secret="dev-insecure-stubfood-secret", default_currency="AED", ip_allowlist=())


@pytest.mark.usefixtures("stub_provider")
def test_named_variables_override_the_adapter_defaults(monkeypatch):
    monkeypatch.setenv("STUBFOOD_AUTH_MODE", "hmac")
    monkeypatch.setenv("STUBFOOD_WEBHOOK_SECRET", "from-the-environment")
    monkeypatch.setenv("STUBFOOD_DEFAULT_CURRENCY", "KWD")
    monkeypatch.setenv("STUBFOOD_IP_ALLOWLIST", "10.0.0.0/8,192.0.2.1/32")

    assert intake_settings("stubfood") == config.IntakeSettings(
        auth_mode="hmac", secret="from-the-environment", default_currency="KWD",
        ip_allowlist=("10.0.0.0/8", "192.0.2.1/32"))


def test_the_settings_dict_overrides_single_keys(settings):
    settings.PROVIDER_INTAKE = {"careem": {"auth_mode": "api_key"}}

    careem = intake_settings("careem")

    assert (careem.auth_mode, careem.default_currency, careem.secret) == (
        "api_key", "JOD", ADAPTERS["careem"].dev_secret)


def test_an_unregistered_name_has_no_settings():
    with pytest.raises(KeyError):
        intake_settings("nobody")


@pytest.mark.usefixtures("stub_provider")
def test_production_refuses_every_providers_missing_or_demo_secret(settings, monkeypatch):
    monkeypatch.setenv("CAREEM_WEBHOOK_SECRET", "prod-careem-secret-81f0")
    monkeypatch.setenv("TALABAT_WEBHOOK_SECRET", "dev-insecure-talabat-webhook-secret-long-enough-for-hs512-signing")
    monkeypatch.setenv("DELIVEROO_WEBHOOK_SECRET", "prod-deliveroo-secret-5a1c")
    settings.PRODUCTION = True  # UBEREATS_CLIENT_SECRET (the setting Uber Eats signs with) keeps its demo value

    messages = [message.msg for message in check_provider_secrets()]

    assert messages == ["TALABAT_WEBHOOK_SECRET is empty or a demo secret; set a real one.",
                        "UBEREATS_CLIENT_SECRET is empty or a demo secret; set a real one.",
                        "STUBFOOD_WEBHOOK_SECRET is empty or a demo secret; set a real one."]


def test_development_uses_the_demo_secrets_without_complaint():
    assert check_provider_secrets() == []
