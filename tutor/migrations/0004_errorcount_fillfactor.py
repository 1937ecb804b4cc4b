from django.db import migrations


class Migration(migrations.Migration):
    """Flushes update counts in place: room on each page lets Postgres make those HOT updates
    (no new index entries, since count and last_seen are not indexed)."""

    dependencies = [("tutor", "0003_drop_redundant_fk_indexes")]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE tutor_errorcount SET (fillfactor = 70)",
            "ALTER TABLE tutor_errorcount RESET (fillfactor)",
        )
    ]
