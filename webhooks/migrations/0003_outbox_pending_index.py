from django.db import migrations, models

# The outbox is a queue: most rows change status soon after they are written. PostgreSQL's default
# (vacuum after 20 % of the table is dead) lets dead entries pile up in front of every claim.
QUEUE_AUTOVACUUM = "autovacuum_vacuum_scale_factor = 0.01, autovacuum_analyze_scale_factor = 0.01"


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0002_inboundwebhook"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="outboxmessage", name="outbox_due"),
        migrations.AddIndex(
            model_name="outboxmessage",
            index=models.Index(
                condition=models.Q(("status", "PENDING")), fields=["next_attempt_at", "id"], name="outbox_pending"
            ),
        ),
        migrations.RunSQL(
            f"ALTER TABLE webhooks_outboxmessage SET ({QUEUE_AUTOVACUUM})",
            "ALTER TABLE webhooks_outboxmessage RESET (autovacuum_vacuum_scale_factor, autovacuum_analyze_scale_factor)",
        ),
    ]
