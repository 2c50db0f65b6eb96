"""The insert trigger's NOTIFY leaves the writing transaction: the nudge thread sends one per linger,
after the commits (webhooks/nudges.py). A NOTIFY inside a transaction takes PostgreSQL's global notify
lock at commit, so every debit's commit queued behind the others, in Celery mode too, where nobody listens."""

from django.db import migrations

DROP = """
DROP TRIGGER IF EXISTS webhooks_outbox_notify ON webhooks_outboxmessage;
DROP FUNCTION IF EXISTS webhooks_outbox_notify();
"""
RECREATE = """
CREATE OR REPLACE FUNCTION webhooks_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('hub_outbox', '');
    RETURN NULL;
END $$;
CREATE TRIGGER webhooks_outbox_notify AFTER INSERT ON webhooks_outboxmessage
    FOR EACH STATEMENT EXECUTE FUNCTION webhooks_outbox_notify();
"""


class Migration(migrations.Migration):
    dependencies = [("webhooks", "0006_outbox_notify")]
    operations = [migrations.RunSQL(DROP, RECREATE)]
