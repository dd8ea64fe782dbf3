-- The key a change's author gave it (HTTP Idempotency-Key), so that a retry of a change whose
-- answer was lost is answered as it was, and made once: one applied change per key.
ALTER TABLE flags_audit ADD COLUMN IF NOT EXISTS idempotency_key text;

CREATE UNIQUE INDEX IF NOT EXISTS flags_audit_by_idempotency_key
    ON flags_audit (app, idempotency_key)
    WHERE idempotency_key IS NOT NULL AND outcome = 'applied';
