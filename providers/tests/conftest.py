"""Fixtures of the provider tests."""

import pytest
import requests
from django.core.cache import cache

from hub.testing import wait_until

PROVIDER_FAKES = ("careem", "talabat", "deliveroo", "ubereats")


def results_posted(mock) -> None:
    """The fake's asynchronous results of this test have all reached the hub (none lands in the next test)."""
    wait_until(lambda: mock.control("menus")["pendingResults"] == 0, timeout=10, what=f"{mock.name}'s last results")


@pytest.fixture
def fakes(mock_processes, settings, live_server):
    """The four provider fakes, the hub's settings pointing at them, their asynchronous results to this hub."""
    running = {name: mock_processes(name) for name in PROVIDER_FAKES}
    settings.CAREEM_API_BASE_URL = f"{running['careem'].url}/pos/api/v1"
    settings.CAREEM_TOKEN_URL = f"{running['careem'].url}/token"
    settings.TALABAT_MIDDLEWARE_URL = running["talabat"].url
    settings.DELIVEROO_API_BASE_URL = running["deliveroo"].url
    settings.DELIVEROO_TOKEN_URL = f"{running['deliveroo'].url}/oauth2/token"
    settings.UBEREATS_API_BASE_URL = running["ubereats"].url
    settings.UBEREATS_TOKEN_URL = f"{running['ubereats'].url}/oauth/v2/token"
    settings.HUB_PUBLIC_URL = live_server.url
    for name, mock in running.items():
        cache.delete(f"provider-token:{name}")
        requests.post(f"{mock.url}/__control/callbacks", json={"url": live_server.url}, timeout=5).raise_for_status()
    yield running
    for mock in running.values():
        results_posted(mock)
