"""Intake moved from the webhooks app to providers: an existing database upgrades with `migrate`
and keeps its audit rows and the permissions granted on them."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

MOVED = {"webhooks": "0004_inbound_failed", "providers": "0001_initial"}


def targets(executor: MigrationExecutor, moved: dict[str, str]) -> list[tuple[str, str]]:
    """Every app at its latest migration, except the `moved` apps at the one given."""
    return [(app, moved.get(app, name)) for app, name in executor.loader.graph.leaf_nodes()]


@pytest.mark.django_db(transaction=True)
def test_audit_rows_and_their_permissions_survive_the_move():
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    before = targets(executor, MOVED)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    row = old.get_model("webhooks", "InboundWebhook").objects.create(
        provider="careem", method="POST", path="/api/webhooks/careem", headers={}, body_sha256="0" * 64, body_size=2,
        outcome="failed", status_code=503, route="generic")
    content_type = old.get_model("contenttypes", "ContentType").objects.get_or_create(
        app_label="webhooks", model="inboundwebhook")[0]
    old.get_model("auth", "Permission").objects.get_or_create(
        content_type=content_type, codename="reprocess_inboundwebhook", defaults={"name": "Can reprocess"})

    executor = MigrationExecutor(connection)
    executor.migrate(latest)

    new = executor.loader.project_state(latest).apps
    assert new.get_model("providers", "InboundWebhook").objects.get(id=row.id).route == "generic"
    moved = new.get_model("contenttypes", "ContentType").objects.get(id=content_type.id)
    assert (moved.app_label, moved.model) == ("providers", "inboundwebhook")
    assert new.get_model("auth", "Permission").objects.filter(
        content_type=moved, codename="reprocess_inboundwebhook").count() == 1
