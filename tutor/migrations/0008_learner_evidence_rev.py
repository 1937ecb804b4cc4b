"""tutor_learner.evidence_rev: a value from one sequence, replaced whenever the learner's
settled evidence changes outside a counter flush (attempts, folds, rebuilds); the per-process
evidence cache (tutor/readcache.py) is keyed by it. A column the model does not declare: only
SQL writes it, so an ORM save of a learner loaded earlier cannot put an old value back.
"""

from django.db import migrations

FORWARD = """
CREATE SEQUENCE tutor_learner_evidence_rev_seq;
ALTER TABLE tutor_learner
    ADD COLUMN evidence_rev bigint NOT NULL DEFAULT nextval('tutor_learner_evidence_rev_seq');
ALTER SEQUENCE tutor_learner_evidence_rev_seq OWNED BY tutor_learner.evidence_rev;
"""
BACKWARD = "ALTER TABLE tutor_learner DROP COLUMN evidence_rev"  # drops the owned sequence


class Migration(migrations.Migration):
    dependencies = [("tutor", "0007_learnererror_uuid_id")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
