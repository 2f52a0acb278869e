-- Audit of dead-letter redrives: who sent which DLQ records back to the log, when, and why.
-- A record listed here is not redriven again unless asked to.

CREATE TABLE dead_letter_redrives (
  id          bigserial   PRIMARY KEY,
  namespace   text        NOT NULL,
  actor       text        NOT NULL,
  at          timestamptz NOT NULL,
  -- The filter as given (ids, key, code, time range).
  filter      jsonb       NOT NULL,
  dry_run     boolean     NOT NULL,
  entry_ids   text[]      NOT NULL,
  -- DLQ records taken, as 'partition:offset/entry-id'.
  records     text[]      NOT NULL
);

CREATE INDEX dead_letter_redrives_namespace ON dead_letter_redrives (namespace, at);
