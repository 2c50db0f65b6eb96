"""Migration operations the apps share."""


from django.db import migrations, models
from django.db.migrations.operations.base import Operation


class OnPostgreSQL(migrations.SeparateDatabaseAndState):
    """`operations` for the models' state, with `sql` doing their database work (and `reverse_sql`
    undoing it): for when Django's own way would rebuild or re-check a whole table."""

    def __init__(self, operations: list[Operation], *, sql: str, reverse_sql: str) -> None:
        super().__init__(state_operations=operations,
                         database_operations=[migrations.RunSQL(sql, reverse_sql=reverse_sql)])


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
