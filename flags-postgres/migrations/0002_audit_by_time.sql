-- The audit read a page at a time, newest first, before a time (GET /api/admin/audit?before=):
-- events ordered by when they happened, which instances' clocks set, not by when rows landed.
CREATE INDEX IF NOT EXISTS flags_audit_by_time ON flags_audit (app, at);
