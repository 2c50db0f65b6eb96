"""Each provider's intake settings, derived from its adapter: a new provider needs no settings block.

For a provider named `careem` they are read from `CAREEM_AUTH_MODE`, `CAREEM_WEBHOOK_SECRET`,
`CAREEM_DEFAULT_CURRENCY` and `CAREEM_IP_ALLOWLIST` (comma-separated CIDRs), with the adapter's
`auth_mode`, `default_currency` and `dev_secret` as defaults. `settings.PROVIDER_INTAKE[name]` may
override any of the four keys (tests do). In production the dev secret is no default: a missing secret
is refused by the `check_provider_secrets` system check at start.
"""

from dataclasses import dataclass
from functools import cache

import environ
from django.conf import settings
from django.core import checks
from django.core.signals import setting_changed
from django.dispatch import receiver

from hub.checks import TAG, is_demo_secret
from providers.adapters import ADAPTERS
from providers.adapters.base import ProviderAdapter

env = environ.Env()


@dataclass(frozen=True)
class IntakeSettings:
    auth_mode: str  # hmac | api_key | jwt
    secret: str
    default_currency: str
    ip_allowlist: tuple[str, ...]  # empty = any address


def secret_variable(name: str) -> str:
    """The setting or environment variable that holds the provider's webhook secret."""
    return ADAPTERS[name].secret_setting or f"{name.upper()}_WEBHOOK_SECRET"


@cache
def intake_settings(name: str) -> IntakeSettings:
    """The settings of the provider registered under `name` (KeyError for any other name)."""
    adapter = ADAPTERS[name]
    return IntakeSettings(**{**_from_environment(adapter), **settings.PROVIDER_INTAKE.get(name, {})})


def _from_environment(adapter: ProviderAdapter) -> dict:
    prefix = adapter.name.upper()
    return {
        "auth_mode": env.str(f"{prefix}_AUTH_MODE", default=adapter.auth_mode),
        "secret": (getattr(settings, adapter.secret_setting) if adapter.secret_setting else
                   env.str(secret_variable(adapter.name), default="" if settings.PRODUCTION else adapter.dev_secret)),
        "default_currency": env.str(f"{prefix}_DEFAULT_CURRENCY", default=adapter.default_currency),
        "ip_allowlist": tuple(env.list(f"{prefix}_IP_ALLOWLIST", default=[])),
    }


@receiver(setting_changed)
def _forget_settings(*, setting: str, **kwargs) -> None:
    if setting in {"PROVIDER_INTAKE", "PRODUCTION"} | {adapter.secret_setting for adapter in ADAPTERS.values()}:
        intake_settings.cache_clear()


@checks.register(TAG, checks.Tags.security)
def check_provider_secrets(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Production refuses a provider's missing or demo webhook secret, as `hub.checks` does for its own."""
    if not settings.PRODUCTION:
        return []
    problems: list[checks.CheckMessage] = []
    for name, adapter in ADAPTERS.items():
        if is_demo_secret(intake_settings(name).secret, adapter.dev_secret):
            problems.append(checks.Error(f"{secret_variable(name)} is empty or a demo secret; set a real one.",
                                         id=f"providers.E{len(problems) + 1:03d}"))
    return problems
