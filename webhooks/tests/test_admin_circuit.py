""""Probe now" and "close" on an open circuit from the admin."""

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission, User
from django.utils import timezone

from webhooks.models import DestinationCircuit
from webhooks.tests.factories import DestinationFactory

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/webhooks/destination/"


@pytest.fixture
def open_circuit():
    destination = DestinationFactory(name="backend")
    return DestinationCircuit.objects.create(destination=destination, open_until=timezone.now() + timedelta(minutes=5))


def test_probe_now_turns_the_circuit_half_open_at_once(admin_client, open_circuit, monkeypatch):
    sweeps = []
    monkeypatch.setattr("webhooks.admin.nudge", lambda: sweeps.append(1))

    answer = admin_client.post(CHANGELIST, {"action": "probe_circuit_now",
                                            "_selected_action": [open_circuit.destination_id]}, follow=True)

    open_circuit.refresh_from_db()
    assert "Probing 1 open circuit." in answer.content.decode()
    assert open_circuit.state == "half-open" and sweeps == [1]


def test_close_resumes_deliveries_and_forgets_earlier_failures(admin_client, open_circuit, monkeypatch):
    monkeypatch.setattr("webhooks.admin.nudge", lambda: None)
    before = timezone.now()

    admin_client.post(CHANGELIST, {"action": "close_circuit", "_selected_action": [open_circuit.destination_id]})

    open_circuit.refresh_from_db()
    assert open_circuit.state == "closed" and open_circuit.closed_at >= before


def test_circuit_actions_need_their_permission(client, open_circuit):
    viewer = User.objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_destination"))
    client.force_login(viewer)

    assert "close_circuit" not in client.get(CHANGELIST).content.decode()
    client.post(CHANGELIST, {"action": "close_circuit", "_selected_action": [open_circuit.destination_id]})

    open_circuit.refresh_from_db()
    assert open_circuit.state == "open"


def test_circuit_actions_are_in_the_admin_log(admin_client, open_circuit, monkeypatch):
    monkeypatch.setattr("webhooks.admin.nudge", lambda: None)

    admin_client.post(CHANGELIST, {"action": "close_circuit", "_selected_action": [open_circuit.destination_id]})

    entry = LogEntry.objects.get()
    assert (entry.user.username, entry.object_id, entry.get_change_message()) == (
        "admin", str(open_circuit.destination_id), "circuit: closed")
