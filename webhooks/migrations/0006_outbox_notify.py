"""Every insert into the outbox notifies `hub_outbox` at commit (PostgreSQL; the dispatcher listens).
One notification per statement, coalesced by PostgreSQL within a transaction (dropped again by 0007)."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION webhooks_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('hub_outbox', '');
    RETURN NULL;
END $$;
CREATE TRIGGER webhooks_outbox_notify AFTER INSERT ON webhooks_outboxmessage
    FOR EACH STATEMENT EXECUTE FUNCTION webhooks_outbox_notify();
"""
DROP = """
DROP TRIGGER IF EXISTS webhooks_outbox_notify ON webhooks_outboxmessage;
DROP FUNCTION IF EXISTS webhooks_outbox_notify();
"""


class Migration(migrations.Migration):
    dependencies = [("webhooks", "0005_inbound_webhooks_moved_to_providers")]
    operations = [migrations.RunSQL(CREATE, DROP)]
