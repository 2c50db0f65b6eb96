from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from hub.crypto import EncryptedTextField


class Command(BaseCommand):
    help = "Re-encrypt every stored secret with the first key of FIELD_ENCRYPTION_KEYS (after adding a new key)."

    def handle(self, *args, **options) -> None:
        for model in apps.get_models():
            fields = [f.name for f in model._meta.fields if isinstance(f, EncryptedTextField)]
            if not fields:
                continue
            with transaction.atomic():
                rows = model._default_manager.select_for_update().only(model._meta.pk.name, *fields)
                for row in rows:
                    row.save(update_fields=fields)  # read with any key, written with the first
                count = rows.count()
            self.stdout.write(f"{model._meta.label}: re-encrypted {count} rows")
