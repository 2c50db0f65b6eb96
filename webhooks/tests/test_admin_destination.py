"""The destination form reads its numbers with the hub's bounded reader and keeps them usable."""

import pytest

from webhooks.models import Destination
from webhooks.tests.factories import DestinationFactory

pytestmark = pytest.mark.django_db


def change(admin_client, destination: Destination, **fields: str):
    form = {"name": destination.name, "url": "https://rgs.example/webhooks", "retry_delays": "[1, 5]",
            "max_attempts": "6", "timeout_seconds": "5", "enabled": "on", **fields}
    return admin_client.post(f"/admin/webhooks/destination/{destination.id}/change/", form)


@pytest.mark.parametrize("delays", ["[1e1000000]", "[-1]", '["5"]', "[]", "[true]", "[NaN]", "[Infinity]",
                                    '{"a": 1}', "[" + "9" * 5000 + "]", "[1e-1000000]", "[" + "1, " * 60 + "1]"])
def test_retry_delays_that_delivery_could_not_use_are_refused_on_the_form(admin_client, delays):
    destination = DestinationFactory(name="rgs", retry_delays=[1, 5])

    answer = change(admin_client, destination, retry_delays=delays)

    assert answer.status_code == 200 and b"errorlist" in answer.content
    destination.refresh_from_db()
    assert destination.retry_delays == [1, 5]


@pytest.mark.parametrize("timeout", ["1e1000000", "inf", "0", "-1", "1e300", "nan"])
def test_a_timeout_delivery_could_not_use_is_refused(admin_client, timeout):
    destination = DestinationFactory(name="rgs", timeout_seconds=5.0)

    assert change(admin_client, destination, timeout_seconds=timeout).status_code == 200
    destination.refresh_from_db()
    assert destination.timeout_seconds == 5.0


def test_good_numbers_are_kept_as_plain_json_numbers(admin_client):
    destination = DestinationFactory(name="rgs")

    assert change(admin_client, destination, retry_delays="[1, 2.5, 300]", timeout_seconds="7.5").status_code == 302

    destination.refresh_from_db()
    assert (destination.retry_delays, destination.timeout_seconds) == ([1, 2.5, 300], 7.5)
