ALTER TABLE applications ADD COLUMN applicant_id_number TEXT;
CREATE INDEX applications_by_applicant ON applications (applicant_id_number, submitted_on);
ALTER TABLE origin_certificates ADD COLUMN producer TEXT;
ALTER TABLE origin_certificates ADD COLUMN invoice TEXT;
CREATE TABLE phone_links (
    token_sha256    BLOB PRIMARY KEY,
    certificate_id  TEXT NOT NULL REFERENCES issued_certificates(certificate_id),
    kiosk_id        TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL
);
CREATE INDEX phone_links_by_certificate ON phone_links (certificate_id);
