CREATE TABLE kiosks (
    kiosk_id      TEXT PRIMARY KEY,
    token_sha256  BLOB NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE TABLE signing_keys (
    purpose     TEXT PRIMARY KEY,
    secret_key  BLOB NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE TABLE categories (
    id         TEXT PRIMARY KEY,
    position   INTEGER NOT NULL,
    name_json  TEXT NOT NULL
);
CREATE TABLE services (
    id                  TEXT PRIMARY KEY,
    position            INTEGER NOT NULL,
    category_id         TEXT NOT NULL REFERENCES categories(id),
    kind                TEXT NOT NULL,
    needs_card          INTEGER NOT NULL,
    name_json           TEXT NOT NULL,
    description_json    TEXT NOT NULL,
    opening_hours_json  TEXT NOT NULL
);
CREATE TABLE residents (
    card_number        TEXT PRIMARY KEY,
    id_number          TEXT NOT NULL UNIQUE,
    name               TEXT NOT NULL,
    gender             TEXT NOT NULL,
    birth_date         TEXT NOT NULL,
    address            TEXT NOT NULL,
    household_head     TEXT NOT NULL,
    relationship_json  TEXT NOT NULL
);
CREATE TABLE contributions (
    id_number       TEXT NOT NULL REFERENCES residents(id_number),
    month           TEXT NOT NULL,
    employer        TEXT NOT NULL,
    base_cents      INTEGER NOT NULL,
    personal_cents  INTEGER NOT NULL,
    employer_cents  INTEGER NOT NULL,
    PRIMARY KEY (id_number, month)
);
CREATE TABLE applications (
    application_number   TEXT PRIMARY KEY,
    service_name_json    TEXT NOT NULL,
    status               TEXT NOT NULL,
    submitted_on         TEXT NOT NULL,
    expected_completion  TEXT,
    steps_json           TEXT NOT NULL,
    missing_json         TEXT NOT NULL
);
CREATE TABLE origin_certificates (
    application_number  TEXT NOT NULL,
    exporter_code       TEXT NOT NULL,
    certificate_number  TEXT UNIQUE,
    summary_json        TEXT NOT NULL,
    exporter_address    TEXT NOT NULL,
    consignee           TEXT NOT NULL,
    transport           TEXT NOT NULL,
    goods_json          TEXT NOT NULL,
    PRIMARY KEY (application_number, exporter_code)
);
CREATE TABLE issued_certificates (
    certificate_id     TEXT PRIMARY KEY,
    verification_code  TEXT NOT NULL UNIQUE,
    kiosk_id           TEXT NOT NULL,
    idempotency_key    TEXT NOT NULL,
    service_id         TEXT NOT NULL,
    card_number        TEXT NOT NULL,
    id_number          TEXT NOT NULL,
    locale             TEXT NOT NULL,
    issued_at          TEXT NOT NULL,
    signature          TEXT NOT NULL,
    qr_payload         TEXT NOT NULL,
    document_json      TEXT NOT NULL,
    UNIQUE (kiosk_id, idempotency_key)
);
CREATE TABLE submissions (
    receipt_number   TEXT PRIMARY KEY,
    kiosk_id         TEXT NOT NULL,
    idempotency_key  TEXT NOT NULL,
    service_id       TEXT NOT NULL,
    card_number      TEXT NOT NULL,
    id_number        TEXT NOT NULL,
    applicant_name   TEXT NOT NULL,
    fields_json      TEXT NOT NULL,
    received_at      TEXT NOT NULL,
    UNIQUE (kiosk_id, idempotency_key)
);
CREATE TABLE ratings (
    rating_id        TEXT PRIMARY KEY,
    kiosk_id         TEXT NOT NULL,
    idempotency_key  TEXT NOT NULL,
    service_id       TEXT NOT NULL,
    certificate_id   TEXT,
    score            TEXT NOT NULL,
    reasons_json     TEXT NOT NULL,
    received_at      TEXT NOT NULL,
    UNIQUE (kiosk_id, idempotency_key)
);
CREATE TABLE heartbeats (
    id               INTEGER PRIMARY KEY,
    kiosk_id         TEXT NOT NULL,
    idempotency_key  TEXT NOT NULL,
    sent_at          TEXT NOT NULL,
    received_at      TEXT NOT NULL,
    app_version      TEXT NOT NULL,
    config_version   INTEGER,
    outbox_backlog   INTEGER NOT NULL,
    devices_json     TEXT NOT NULL,
    UNIQUE (kiosk_id, idempotency_key)
);
CREATE TABLE idempotency_keys (
    kiosk_id         TEXT NOT NULL,
    idempotency_key  TEXT NOT NULL,
    endpoint         TEXT NOT NULL,
    request_sha256   BLOB NOT NULL,
    response_json    TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    PRIMARY KEY (kiosk_id, idempotency_key)
);
CREATE TABLE config_bundles (
    version     INTEGER PRIMARY KEY,
    payload     TEXT NOT NULL,
    signature   TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
