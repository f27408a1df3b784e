-- Verification codes of certificates of origin: unguessable, printed on the
-- approved certificate; the sequential certificate number no longer verifies.
ALTER TABLE origin_certificates ADD COLUMN verification_code TEXT;
CREATE UNIQUE INDEX origin_certificates_by_verification_code
    ON origin_certificates (verification_code);

-- Heartbeats are their own idempotency ledger (no row in idempotency_keys), so a
-- batch of them is one insert.
ALTER TABLE heartbeats ADD COLUMN request_sha256 BLOB;
ALTER TABLE heartbeats ADD COLUMN acked_config_version INTEGER;
CREATE INDEX heartbeats_by_received_at ON heartbeats (received_at);

-- Receipt numbers come from a counter per day instead of counting the day's rows,
-- so that two writers never compute the same number.
CREATE TABLE receipt_counters (
    day   TEXT PRIMARY KEY,
    last  INTEGER NOT NULL
);
INSERT INTO receipt_counters (day, last)
    SELECT substr(receipt_number, 3, 8), MAX(CAST(substr(receipt_number, 12) AS INTEGER))
    FROM submissions GROUP BY substr(receipt_number, 3, 8);

-- One-time enrollment codes (kiosk enrollment): only a hash is kept; a code
-- is used once (used_at set in the same statement that checks it).
CREATE TABLE enrollment_codes (
    code_sha256  BLOB PRIMARY KEY,
    kiosk_id     TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    used_at      TEXT,
    -- The public keys (JSON list) the enrolled kiosk is told to trust.
    config_keys  TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX enrollment_codes_by_kiosk ON enrollment_codes (kiosk_id);
