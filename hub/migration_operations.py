"""Migration operations the apps share."""

from typing import Any

from django.db import migrations, models


class UniqueFieldToConstraint(migrations.SeparateDatabaseAndState):
    """A field's `unique=True` becomes a UniqueConstraint named `name`, without a new index on PostgreSQL.

    Django's own operations (an AlterField, then an AddConstraint) would drop the field's unique index
    and build the constraint's anew, holding the table locked while it scans every row; on PostgreSQL
    the existing unique constraint is renamed instead, and the second index Django keeps beside it for
    LIKE 'x%' searches is dropped. Other databases run Django's operations.
    """

    def __init__(self, *, model_name: str, field_name: str, field: Any, name: str, table: str, like_index: str) -> None:
        state = [migrations.AlterField(model_name=model_name, name=field_name, field=field),
                 migrations.AddConstraint(model_name=model_name,
                                          constraint=models.UniqueConstraint(fields=(field_name,), name=name))]
        super().__init__(state_operations=state)
        column_key = f"{table}_{field_name}_key"  # PostgreSQL's name for a column's UNIQUE clause
        self.django_operations = state
        self.postgresql_operations = [migrations.RunSQL(
            f'DROP INDEX IF EXISTS "{like_index}"; ALTER TABLE "{table}" RENAME CONSTRAINT "{column_key}" TO "{name}";',
            reverse_sql=f'ALTER TABLE "{table}" RENAME CONSTRAINT "{name}" TO "{column_key}"; '
                        f'CREATE INDEX "{like_index}" ON "{table}" ("{field_name}" varchar_pattern_ops);',
        )]

    def _choose(self, schema_editor: Any) -> None:
        postgresql = schema_editor.connection.vendor == "postgresql"
        self.database_operations = self.postgresql_operations if postgresql else self.django_operations

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        self._choose(schema_editor)
        super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        self._choose(schema_editor)
        super().database_backwards(app_label, schema_editor, from_state, to_state)

