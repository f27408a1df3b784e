//! Enrolling kiosks over real HTTP, on SQLite and on PostgreSQL: a one-time code
//! from the API, the fleet page or the command line, exchanged once for a
//! working token and the keys the kiosk must trust.

use std::process::Command;

use crate::support::{Backend, Harness, problem};
use estation_central::server::{Clock, ServerOptions, key_id};
use estation_central::wire::*;
use reqwest::StatusCode;
use time::macros::datetime;

const ADMIN: &str = "ops-wang";

async fn admin_token(h: &Harness) -> String {
    h.central.register_admin(ADMIN).await.unwrap()
}

async fn new_code(h: &Harness, admin: &str, request: &EnrollmentCodeRequest) -> reqwest::Response {
    h.http
        .post(h.url("/v1/admin/enrollment-codes"))
        .basic_auth(ADMIN, Some(admin))
        .json(request)
        .send()
        .await
        .unwrap()
}

async fn redeem(h: &Harness, code: &str) -> reqwest::Response {
    h.http
        .post(h.url("/v1/enroll"))
        .json(&EnrollRequest { code: code.into() })
        .send()
        .await
        .unwrap()
}

fn request(kiosk: &str, ttl_secs: u64) -> EnrollmentCodeRequest {
    EnrollmentCodeRequest {
        kiosk_id: kiosk.into(),
        ttl_secs,
        config_keys: Vec::new(),
    }
}

both_stores!(
    a_code_enrolls_one_kiosk_once_with_a_working_token,
    |backend: Backend| async move {
        let h = Harness::start(backend).await;
        let admin = admin_token(&h).await;
        let signer = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
        let admin_key = estation_central::server::public_key_info(&signer.verifying_key());
        let answer = new_code(
            &h,
            &admin,
            &EnrollmentCodeRequest {
                config_keys: vec![admin_key.clone()],
                ..request("binjiang-03", 24 * 3600)
            },
        )
        .await;
        assert_eq!(answer.status(), StatusCode::CREATED);
        let code: EnrollmentCode = answer.json().await.unwrap();
        assert_eq!(code.kiosk_id, "binjiang-03");
        assert_eq!(
            h.rows(&format!(
                "SELECT COUNT(*) FROM enrollment_codes
                 WHERE kiosk_id = 'binjiang-03' AND created_by = '{ADMIN}' AND used_at IS NULL"
            )),
            1
        );

        // Typed in lower case with spaces, as someone reading it over the phone might.
        let typed = code.code.to_lowercase().replace('-', " ");
        let answer = redeem(&h, &typed).await;
        assert_eq!(answer.status(), StatusCode::OK);
        let enrollment: Enrollment = answer.json().await.unwrap();
        assert_eq!(enrollment.kiosk_id, "binjiang-03");
        let keys = h.central.public_keys();
        // Only the administrator's key: the service is not trusted with the
        // kiosk's configuration.
        assert_eq!(enrollment.config_keys.len(), 1);
        assert_eq!(
            enrollment.config_keys[0].key_id,
            key_id(&signer.verifying_key())
        );
        assert_ne!(enrollment.config_keys[0], keys.config);
        assert_eq!(enrollment.certificate_key, keys.certificate);

        // The token is the kiosk's credential from now on.
        let catalogue = h
            .http
            .get(h.url("/v1/catalogue"))
            .header(KIOSK_ID_HEADER, "binjiang-03")
            .bearer_auth(&enrollment.token)
            .send()
            .await
            .unwrap();
        assert_eq!(catalogue.status(), StatusCode::OK);

        // Once only.
        let again = redeem(&h, &code.code).await;
        assert_eq!(again.status(), StatusCode::CONFLICT);
        assert_eq!(problem(again).await.code, ProblemCode::EnrollmentCodeUsed);
        let wrong = redeem(&h, "0000-0000-0000-0000").await;
        assert_eq!(wrong.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            problem(wrong).await.code,
            ProblemCode::EnrollmentCodeUnknown
        );
        let empty = redeem(&h, " - ").await;
        assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);

        // Bad requests for codes are refused with reasons, and need an administrator.
        for bad in [
            request("", 3600),
            request("has space", 3600),
            request("binjiang-04", 5),
            request("binjiang-04", 31 * 24 * 3600),
            EnrollmentCodeRequest {
                config_keys: vec![PublicKeyInfo {
                    key_id: "x".into(),
                    algorithm: "ed25519".into(),
                    public_key: "not base64".into(),
                }],
                ..request("binjiang-04", 3600)
            },
        ] {
            let answer = new_code(&h, &admin, &bad).await;
            assert_eq!(answer.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
            assert_eq!(problem(answer).await.code, ProblemCode::ValidationFailed);
        }
        let stranger = new_code(&h, "wrong token", &request("binjiang-04", 3600)).await;
        assert_eq!(stranger.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            h.rows("SELECT COUNT(*) FROM enrollment_codes WHERE kiosk_id = 'binjiang-04'"),
            0
        );
    }
);

both_stores!(
    two_kiosks_racing_for_one_code_enroll_one,
    |backend: Backend| async move {
        let h = Harness::start(backend).await;
        let admin = admin_token(&h).await;
        let code: EnrollmentCode = new_code(&h, &admin, &request("jindong-02", 3600))
            .await
            .json()
            .await
            .unwrap();
        let racers: Vec<_> = (0..12)
            .map(|_| {
                let (http, url, code) = (h.http.clone(), h.url("/v1/enroll"), code.code.clone());
                tokio::spawn(async move {
                    http.post(url)
                        .json(&EnrollRequest { code })
                        .send()
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut tokens = Vec::new();
        for racer in racers {
            let answer = racer.await.unwrap();
            match answer.status() {
                StatusCode::OK => tokens.push(answer.json::<Enrollment>().await.unwrap().token),
                StatusCode::CONFLICT => {
                    assert_eq!(problem(answer).await.code, ProblemCode::EnrollmentCodeUsed)
                }
                other => panic!("unexpected {other}"),
            }
        }
        assert_eq!(tokens.len(), 1, "exactly one racer enrolls");
        // And the token the winner holds is the one that works.
        let check = |token: String| {
            h.http
                .get(h.url("/v1/catalogue"))
                .header(KIOSK_ID_HEADER, "jindong-02")
                .bearer_auth(token)
                .send()
        };
        assert_eq!(
            check(tokens[0].clone()).await.unwrap().status(),
            StatusCode::OK
        );
    }
);

both_stores!(
    an_expired_code_is_refused_as_expired,
    |backend: Backend| async move {
        let clock = Clock::manual(datetime!(2026-12-07 09:00 UTC));
        let h = Harness::start_with(
            backend,
            ServerOptions {
                clock: clock.clone(),
                ..ServerOptions::default()
            },
        )
        .await;
        let admin = admin_token(&h).await;
        let code: EnrollmentCode = new_code(&h, &admin, &request("xiaoshan-01", 3600))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(code.expires_at, datetime!(2026-12-07 10:00 UTC));
        clock.set(datetime!(2026-12-07 10:00 UTC));
        let late = redeem(&h, &code.code).await;
        assert_eq!(late.status(), StatusCode::GONE);
        assert_eq!(problem(late).await.code, ProblemCode::EnrollmentCodeExpired);
        assert_eq!(
            h.rows("SELECT COUNT(*) FROM kiosks WHERE kiosk_id = 'xiaoshan-01'"),
            0
        );
    }
);

#[tokio::test]
async fn the_fleet_page_creates_codes_and_refuses_forms_from_other_sites() {
    let h = Harness::start(Backend::Sqlite).await;
    let admin = admin_token(&h).await;
    let page = h
        .http
        .get(h.url("/admin/fleet"))
        .basic_auth(ADMIN, Some(&admin))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("action=\"/admin/enrollment-codes\""),
        "{page}"
    );

    let signer = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    let pem = {
        use ed25519_dalek::pkcs8::EncodePublicKey;
        signer
            .verifying_key()
            .to_public_key_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
            .unwrap()
    };
    let post = |origin: &str| {
        h.http
            .post(h.url("/admin/enrollment-codes"))
            .basic_auth(ADMIN, Some(&admin))
            .header("origin", origin)
            .form(&[
                ("kiosk_id", "fuyang-05"),
                ("ttl_hours", "24"),
                ("config_keys", pem.as_str()),
            ])
            .send()
    };
    let host = h.central.base_url().to_owned();
    let created = post(&host).await.unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let body = created.text().await.unwrap();
    let code = body
        .split("--code ")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap()
        .to_owned();
    let enrollment: Enrollment = redeem(&h, &code).await.json().await.unwrap();
    assert_eq!(enrollment.kiosk_id, "fuyang-05");
    assert!(
        enrollment
            .config_keys
            .iter()
            .any(|k| k.key_id == key_id(&signer.verifying_key()))
    );

    let forged = post("https://elsewhere.example").await.unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        h.rows("SELECT COUNT(*) FROM enrollment_codes WHERE kiosk_id = 'fuyang-05'"),
        1
    );
}

/// `estation-central enroll-code` on the command line, against the database a
/// running service uses.
#[tokio::test]
async fn the_command_line_prints_a_code_the_service_accepts() {
    let h = Harness::start(Backend::Sqlite).await;
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_estation-central"))
            .args(["enroll-code", "--db", &h.database])
            .args(args)
            .output()
            .unwrap()
    };
    let output = run(&["--kiosk", "linping-02", "--ttl", "2h"]);
    assert!(output.status.success(), "{output:?}");
    let code = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    assert_eq!(code.len(), 19, "{code}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("linping-02"));
    let enrollment: Enrollment = redeem(&h, &code).await.json().await.unwrap();
    assert_eq!(enrollment.kiosk_id, "linping-02");

    let bad_ttl = run(&["--kiosk", "linping-03", "--ttl", "2 weeks"]);
    assert!(!bad_ttl.status.success());
    assert!(String::from_utf8_lossy(&bad_ttl.stderr).contains("unit"));
    let missing_key = run(&["--kiosk", "linping-03", "--config-key", "/nonexistent.pub"]);
    assert!(!missing_key.status.success());
    assert!(String::from_utf8_lossy(&missing_key.stderr).contains("/nonexistent.pub"));
}
