-- Phone identity codes are stateless (sealed with a key derived from the
-- certificate key); what the service must remember is which ones were used,
-- so that a code identifies one visit only. A row can go once its code has
-- expired: an expired code is refused before this table is consulted.
CREATE TABLE identity_code_uses (
    nonce       bytea PRIMARY KEY,
    kiosk_id    text NOT NULL,
    -- The Idempotency-Key of the request that used it: a retry of that very
    -- request (its answer was lost) is answered again, not refused as used.
    request_key text,
    used_at     timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL
);
CREATE INDEX identity_code_uses_by_expiry ON identity_code_uses (expires_at);
