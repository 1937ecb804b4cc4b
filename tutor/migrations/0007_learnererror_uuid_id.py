"""LearnerError ids become UUIDs, so that a client may choose them (retries hit the key).

Existing ids map to UUIDs whose low 64 bits are the old number (00000000-0000-0000-<id>), so
references kept outside the database can still be traced.
"""

import django.db.models
from django.db import migrations

import tutor.ids

FORWARD = """
ALTER TABLE tutor_learnererror ALTER COLUMN id DROP IDENTITY IF EXISTS;
ALTER TABLE tutor_learnererror ALTER COLUMN id DROP DEFAULT;
ALTER TABLE tutor_learnererror
    ALTER COLUMN id TYPE uuid USING lpad(to_hex(id), 32, '0')::uuid;
"""


class Migration(migrations.Migration):
    dependencies = [("tutor", "0006_exercise_levels_and_attempts")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(FORWARD, migrations.RunSQL.noop)],
            state_operations=[
                migrations.AlterField(
                    model_name="learnererror",
                    name="id",
                    field=django.db.models.UUIDField(
                        default=tutor.ids.new_id, editable=False, primary_key=True, serialize=False
                    ),
                ),
            ],
        ),
    ]
