import django.db.models.deletion
from django.db import migrations, models

from hub.migration_operations import OnPostgreSQL, unique_field_to_constraint


class Migration(migrations.Migration):

    dependencies = [
        ('webhooks', '0008_outbox_pending_ordering_index'),
    ]

    operations = [
        # Django would drop and re-add the foreign key, checking every delivery attempt again.
        OnPostgreSQL(
            [migrations.AlterField(
                model_name='deliveryattempt',
                name='destination',
                field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+',
                                        to='webhooks.destination'),
            )],
            sql='DROP INDEX IF EXISTS "webhooks_deliveryattempt_destination_id_67371c49";',
            reverse_sql='CREATE INDEX "webhooks_deliveryattempt_destination_id_67371c49" '
                        'ON "webhooks_deliveryattempt" ("destination_id");',
        ),
        unique_field_to_constraint(
            model_name='outboxmessage', field_name='event_id', name='outbox_event_id',
            field=models.CharField(help_text='Sent as webhook-id; stable across retries.', max_length=64),
            table='webhooks_outboxmessage', like_index='webhooks_outboxmessage_event_id_3ee307d9_like',
        ),
    ]
