-- What kind of change each event records (set, reset, rollback, or sync from a store or a
-- service), and the reason its author gave. Events from before read as a set without a comment.
ALTER TABLE flags_audit ADD COLUMN IF NOT EXISTS kind text NOT NULL DEFAULT 'set'
    CHECK (kind IN ('set', 'reset', 'rollback', 'sync'));
ALTER TABLE flags_audit ADD COLUMN IF NOT EXISTS comment text;
