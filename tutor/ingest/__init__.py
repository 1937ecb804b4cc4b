"""Tutor ingestion (`writes`: one utterance or error; `bulk`): retry-safe, client-timed,
counted exactly once.

- Retries: the client may choose each utterance's and error's id (a UUID, the primary key). The
  insert is `ON CONFLICT (id) DO NOTHING`: a row that already exists is compared with the request
  (same content -> 200 with the stored row, else 409 naming `id`); only rows really inserted are
  counted, so a retried or racing duplicate never counts twice.
- Exactly-once counts: every error row is written with its request's batch id (the durable
  marker, `uncounted_batch`) in the same statement. After commit, one Redis round trip adds the
  counts together with evidence of the batch. The flush clears the marks of batches whose
  evidence it applies, and folds marked rows without evidence (a worker killed before its Redis
  call, Redis down or restarted empty) from Postgres, after a settle time. So no count depends
  on a process surviving past its commit, nor on Redis keeping its data.
- Batch ids are time-ordered (UUIDv7): the flush's settle time reads the ingest moment from the
  id, whatever `created_at` the client gave.
"""
