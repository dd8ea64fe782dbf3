-- The overrides of live flags, their version and their audit, for every application that shares
-- this database: each row names its application (`app`), and an instance reads and writes only
-- its own application's rows. Idempotent: a migration that ran already changes nothing.

-- One row per application: the version its overrides are at.
CREATE TABLE IF NOT EXISTS flags_state (
    app        text        PRIMARY KEY,
    version    bigint      NOT NULL CHECK (version >= 0),
    changed_at timestamptz NOT NULL DEFAULT now()
);

-- The overrides of the version in flags_state: one row per variable set live.
CREATE TABLE IF NOT EXISTS flags_overrides (
    app      text   NOT NULL REFERENCES flags_state (app),
    variable text   NOT NULL,
    value    text   NOT NULL,
    actor    text   NOT NULL,
    version  bigint NOT NULL CHECK (version >= 0),
    PRIMARY KEY (app, variable)
);

-- Every attempt to change the flags, applied or rejected, by any instance.
CREATE TABLE IF NOT EXISTS flags_audit (
    id      bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    app     text        NOT NULL,
    version bigint      NOT NULL CHECK (version >= 0),
    actor   text        NOT NULL,
    at      timestamptz NOT NULL,
    outcome text        NOT NULL CHECK (outcome IN ('applied', 'rejected')),
    reason  text,
    changes jsonb       NOT NULL
);

CREATE INDEX IF NOT EXISTS flags_audit_by_app ON flags_audit (app, id);
