-- The schema registry served by the control plane (the Confluent Schema Registry REST API).
-- A schema has one id whatever subjects it is registered under; a subject is an ordered list
-- of versions, each naming a schema. Deleting a version only marks it, as the API's soft delete
-- does; a permanent delete removes the row.

CREATE TABLE registry_schemas (
  id          serial      PRIMARY KEY,
  -- The schema's canonical JSON text (compact, object keys sorted).
  schema      text        NOT NULL,
  -- sha256 of that text: the same schema registered twice gets the same id. (A unique index
  -- on the text itself would refuse schemas longer than a btree entry holds.)
  fingerprint bytea       NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE registry_subject_versions (
  subject     text        NOT NULL,
  version     integer     NOT NULL CHECK (version > 0),
  schema_id   integer     NOT NULL REFERENCES registry_schemas (id),
  deleted     boolean     NOT NULL DEFAULT false,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (subject, version)
);

CREATE INDEX registry_subject_versions_schema ON registry_subject_versions (schema_id);

-- Compatibility levels: the row with subject '' is the global level.
CREATE TABLE registry_config (
  subject       text PRIMARY KEY,
  compatibility text NOT NULL
);
