"""Fixtures of the provider tests."""

import pytest
import requests
from django.core.cache import cache

from hub.testing import wait_until

PROVIDER_FAKES = ("careem", "talabat", "deliveroo", "ubereats")


def provider_env(mock) -> dict[str, str]:
    """The settings (a worker's environment) that send a provider's calls to its fake."""
    return {
        "careem": {"CAREEM_API_BASE_URL": f"{mock.url}/pos/api/v1", "CAREEM_TOKEN_URL": f"{mock.url}/token"},
        "talabat": {"TALABAT_MIDDLEWARE_URL": mock.url},
        "deliveroo": {"DELIVEROO_API_BASE_URL": mock.url, "DELIVEROO_TOKEN_URL": f"{mock.url}/oauth2/token"},
        "ubereats": {"UBEREATS_API_BASE_URL": mock.url, "UBEREATS_TOKEN_URL": f"{mock.url}/oauth/v2/token"},
    }[mock.name]


def point_at(mock, settings) -> None:
    """This test's hub sends the provider's calls to its fake, with a new token."""
    for name, value in provider_env(mock).items():
        setattr(settings, name, value)
    cache.delete(f"provider-token:{mock.name}")


@pytest.fixture
def uber(mock_processes, settings):
    mock = mock_processes("ubereats")
    point_at(mock, settings)
    return mock


@pytest.fixture
def deliveroo_fake(mock_processes, settings):
    mock = mock_processes("deliveroo")
    point_at(mock, settings)
    return mock


def results_posted(mock) -> None:
    """The fake's asynchronous results of this test have all reached the hub (none lands in the next test)."""
    wait_until(lambda: mock.control("menus")["pendingResults"] == 0, timeout=10, what=f"{mock.name}'s last results")


@pytest.fixture
def fakes(mock_processes, settings, live_server):
    """The four provider fakes, the hub's settings pointing at them, their asynchronous results to this hub."""
    running = {name: mock_processes(name) for name in PROVIDER_FAKES}
    settings.HUB_PUBLIC_URL = live_server.url
    for mock in running.values():
        point_at(mock, settings)
        requests.post(f"{mock.url}/__control/callbacks", json={"url": live_server.url}, timeout=5).raise_for_status()
    yield running
    for mock in running.values():
        results_posted(mock)
