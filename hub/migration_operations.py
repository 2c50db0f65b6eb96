"""Migration operations the apps share."""

from typing import Any

from django.db import migrations, models
from django.db.migrations.operations.base import Operation


class OnPostgreSQL(migrations.SeparateDatabaseAndState):
    """`operations` as they are, except that on PostgreSQL `sql` does their database work (and
    `reverse_sql` undoes it): for when Django's own way would rebuild or re-check a whole table."""

    def __init__(self, operations: list[Operation], *, sql: str, reverse_sql: str) -> None:
        super().__init__(state_operations=operations)
        self.django_operations = operations
        self.postgresql_operations = [migrations.RunSQL(sql, reverse_sql=reverse_sql)]

    def _choose(self, schema_editor: Any) -> None:
        postgresql = schema_editor.connection.vendor == "postgresql"
        self.database_operations = self.postgresql_operations if postgresql else self.django_operations

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        self._choose(schema_editor)
        super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        self._choose(schema_editor)
        super().database_backwards(app_label, schema_editor, from_state, to_state)


def unique_field_to_constraint(*, model_name: str, field_name: str, field: models.Field, name: str, table: str,
                               like_index: str) -> OnPostgreSQL:
    """A field's `unique=True` becomes a UniqueConstraint named `name`. Django would drop the field's
    unique index and build the constraint's anew, holding the table locked while it reads every row;
    on PostgreSQL the existing constraint is renamed instead, and the second index `unique=True` keeps
    beside it for LIKE 'x%' searches is dropped."""
    column_key = f"{table}_{field_name}_key"  # PostgreSQL's name for a column's UNIQUE clause
    return OnPostgreSQL(
        [migrations.AlterField(model_name=model_name, name=field_name, field=field),
         migrations.AddConstraint(model_name=model_name, constraint=models.UniqueConstraint(fields=(field_name,), name=name))],
        sql=f'DROP INDEX IF EXISTS "{like_index}"; ALTER TABLE "{table}" RENAME CONSTRAINT "{column_key}" TO "{name}";',
        reverse_sql=f'ALTER TABLE "{table}" RENAME CONSTRAINT "{name}" TO "{column_key}"; '
                    f'CREATE INDEX "{like_index}" ON "{table}" ("{field_name}" varchar_pattern_ops);',
    )
