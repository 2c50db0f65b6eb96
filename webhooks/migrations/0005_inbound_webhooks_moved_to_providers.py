"""InboundWebhook moved to providers (providers 0002): state only, the table and its rows stay."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('webhooks', '0004_inbound_failed'),
        ('providers', '0002_inbound_webhooks_moved_here'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name='InboundWebhook')]),
    ]
