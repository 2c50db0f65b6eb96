"""The inbound audit log moves from the webhooks app to providers: the model's state only.
The table (webhooks_inboundwebhook) and its rows stay where they are; the content type is renamed so
that permissions granted on it (view, reprocess) are kept."""

import uuid

import django.utils.timezone
from django.db import migrations, models


def _rename_content_type(apps, old: str, new: str) -> None:
    content_types = apps.get_model("contenttypes", "ContentType")
    if not content_types.objects.filter(app_label=new, model="inboundwebhook").exists():
        content_types.objects.filter(app_label=old, model="inboundwebhook").update(app_label=new)


def move_content_type(apps, schema_editor) -> None:
    _rename_content_type(apps, "webhooks", "providers")


def move_content_type_back(apps, schema_editor) -> None:
    _rename_content_type(apps, "providers", "webhooks")


class Migration(migrations.Migration):

    dependencies = [
        ('providers', '0001_initial'),
        ('webhooks', '0004_inbound_failed'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.CreateModel(
            name='InboundWebhook',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, help_text='The webhookId answered.', primary_key=True, serialize=False)),
                ('provider', models.CharField(max_length=32)),
                ('received_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('method', models.CharField(max_length=8)),
                ('path', models.CharField(max_length=300)),
                ('remote_ip', models.GenericIPAddressField(blank=True, null=True)),
                ('headers', models.JSONField(help_text='Secrets redacted.')),
                ('body', models.TextField(blank=True, help_text='Kept only for authenticated requests.')),
                ('body_sha256', models.CharField(max_length=64)),
                ('body_size', models.PositiveIntegerField()),
                ('outcome', models.CharField(choices=[('accepted', 'Accepted'), ('duplicate', 'Duplicate'), ('unauthorized', 'Unauthorized'), ('rate_limited', 'Rate Limited'), ('too_large', 'Too Large'), ('malformed', 'Malformed'), ('invalid', 'Invalid'), ('not_found', 'Not Found'), ('failed', 'Failed')], max_length=16)),
                ('status_code', models.PositiveSmallIntegerField()),
                ('errors', models.JSONField(default=list)),
                ('dedupe_key', models.CharField(blank=True, max_length=300)),
                ('duplicate_of', models.UUIDField(blank=True, null=True)),
                ('correlation_id', models.CharField(blank=True, max_length=128)),
                ('route', models.CharField(blank=True, max_length=16)),
                ('context', models.JSONField(blank=True, default=dict)),
                ('reprocessed_at', models.DateTimeField(blank=True, null=True)),
                ('reprocessed_as', models.UUIDField(blank=True, help_text='The audit row of the reprocessing.', null=True)),
            ],
            options={
                'db_table': 'webhooks_inboundwebhook',
                'permissions': [('reprocess_inboundwebhook', 'Can reprocess failed inbound webhooks')],
                'indexes': [models.Index(fields=['provider', 'received_at'], name='inbound_provider_time'), models.Index(condition=models.Q(('outcome', 'failed'), ('reprocessed_at__isnull', True)), fields=['received_at'], name='inbound_failed_pending')],
                'constraints': [models.UniqueConstraint(condition=models.Q(('outcome', 'accepted')), fields=('provider', 'dedupe_key'), name='inbound_dedupe')],
            },
        )]),
        migrations.RunPython(move_content_type, reverse_code=move_content_type_back),
    ]
