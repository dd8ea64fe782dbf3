-- Which migrations ran: created, if need be, before any runs. Not a migration itself.
CREATE TABLE IF NOT EXISTS flags_migrations (
    version    integer     PRIMARY KEY,
    name       text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
