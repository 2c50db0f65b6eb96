"""The database cache table (the default CACHE_URL, used by the intake rate limiter) comes with
`migrate`, so no deployment can forget `createcachetable`. A no-op with a Redis cache."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor) -> None:
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies: list = []
    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
