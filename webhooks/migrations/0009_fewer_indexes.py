import django.db.models.deletion
from django.db import migrations, models

from hub.migration_operations import UniqueFieldToConstraint


class Migration(migrations.Migration):

    dependencies = [
        ('webhooks', '0008_outbox_pending_ordering_index'),
    ]

    operations = [
        migrations.AlterField(
            model_name='deliveryattempt',
            name='destination',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='webhooks.destination'),
        ),
        UniqueFieldToConstraint(
            model_name='outboxmessage', field_name='event_id', name='outbox_event_id',
            field=models.CharField(help_text='Sent as webhook-id; stable across retries.', max_length=64),
            table='webhooks_outboxmessage', like_index='webhooks_outboxmessage_event_id_3ee307d9_like',
        ),
    ]
