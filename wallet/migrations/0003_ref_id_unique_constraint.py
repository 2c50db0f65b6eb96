from django.db import migrations, models

from hub.migration_operations import unique_field_to_constraint


class Migration(migrations.Migration):

    dependencies = [
        ('wallet', '0002_resolve_permission'),
    ]

    operations = [
        unique_field_to_constraint(
            model_name='wallettransaction', field_name='ref_id', name='wallet_tx_ref_id',
            field=models.CharField(help_text="The RGS's id; the Operator's transaction_id.", max_length=64),
            table='wallet_wallettransaction', like_index='wallet_wallettransaction_ref_id_db51d8b5_like',
        ),
    ]
