CREATE TABLE admins (
    admin_id      TEXT PRIMARY KEY,
    token_sha256  BLOB NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE TABLE published_bundles (
    version       INTEGER PRIMARY KEY,
    selector      TEXT NOT NULL,
    payload       TEXT NOT NULL,
    signature     TEXT NOT NULL,
    key_id        TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    published_by  TEXT NOT NULL,
    published_at  TEXT NOT NULL
);
CREATE INDEX heartbeats_by_kiosk ON heartbeats (kiosk_id, id);
