-- Namespaces and their audit trail.
-- A deleted namespace keeps its row (deleted_at set) so that its history keeps
-- its foreign key and a re-created namespace goes on numbering versions where
-- the deleted one stopped: (namespace, version) names one change forever.

CREATE TABLE namespaces (
  name        text        PRIMARY KEY,
  -- The config as validated by parseNamespaceConfig, defaults filled.
  config      jsonb       NOT NULL,
  version     integer     NOT NULL CHECK (version >= 1),
  created_at  timestamptz NOT NULL,
  updated_at  timestamptz NOT NULL,
  deleted_at  timestamptz
);

CREATE TABLE namespace_changes (
  namespace        text        NOT NULL REFERENCES namespaces (name),
  version          integer     NOT NULL CHECK (version >= 1),
  action           text        NOT NULL CHECK (action IN ('create', 'update', 'delete', 'rollback')),
  actor            text        NOT NULL,
  at               timestamptz NOT NULL,
  before           jsonb,
  after            jsonb,
  rolled_back_to   integer,
  PRIMARY KEY (namespace, version),
  CHECK ((action = 'create') = (before IS NULL)),
  CHECK ((action = 'delete') = (after IS NULL)),
  CHECK ((action = 'rollback') = (rolled_back_to IS NOT NULL))
);
