//! Identity without a card, over real HTTP on SQLite and on PostgreSQL: the
//! reference phone page issues a code, `POST /v1/identity/code` answers its
//! resident once, and refuses expired, reused, forged and malformed codes.

use crate::support::{Backend, Harness, problem};
use estation_central::seed::DEMO_RESIDENTS;
use estation_central::server::identity_code::{IDENTITY_CODE_TTL, IdentityCodeVerifier};
use estation_central::server::{Clock, ServerOptions};
use estation_central::wire::*;
use reqwest::StatusCode;
use time::macros::datetime;

fn page_options(clock: &Clock) -> ServerOptions {
    ServerOptions {
        identity_code_page: true,
        clock: clock.clone(),
        ..ServerOptions::default()
    }
}

/// A code from the phone page, as a resident's phone shows it.
async fn code_from_page(h: &Harness, resident: usize) -> String {
    let r = &DEMO_RESIDENTS[resident];
    let answer = h
        .http
        .post(h.url("/m/id"))
        .form(&[("card_number", r.card_number), ("id_number", r.id_number)])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let policy = answer.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(policy.contains("form-action 'self'"), "{policy}");
    let html = answer.text().await.unwrap();
    assert!(html.contains("<svg"), "the page shows a QR code");
    let start = html
        .find("id=\"identity-code\">")
        .expect("code on the page")
        + 19;
    let end = start + html[start..].find("</code>").unwrap();
    html[start..end].to_owned()
}

async fn identify(h: &Harness, code: &str, key: &str) -> reqwest::Response {
    h.post(
        "/v1/identity/code",
        key,
        &IdentityCodeRequest { code: code.into() },
    )
    .send()
    .await
    .unwrap()
}

both_stores!(
    a_phone_code_identifies_its_resident_once,
    |backend: Backend| async move {
        let clock = Clock::manual(datetime!(2026-11-24 02:00 +08:00));
        let h = Harness::start_with(backend, page_options(&clock)).await;
        let code = code_from_page(&h, 1).await;
        assert!(code.starts_with("EID1:"), "{code}");
        assert!(!code.contains(DEMO_RESIDENTS[1].card_number));

        let answer = identify(&h, &code, "scan-1").await;
        assert_eq!(answer.status(), StatusCode::OK);
        let resident: CodeIdentity = answer.json().await.unwrap();
        assert_eq!(resident.card_number, DEMO_RESIDENTS[1].card_number);
        assert_eq!(resident.id_number, DEMO_RESIDENTS[1].id_number);
        assert_eq!(resident.name, DEMO_RESIDENTS[1].name);
        assert_eq!(
            h.rows("SELECT COUNT(*) FROM identity_code_uses WHERE kiosk_id = 'demo-kiosk-01'"),
            1
        );

        // The kiosk lost the answer and asks again with the same key: same resident.
        let retry = identify(&h, &code, "scan-1").await;
        assert_eq!(retry.status(), StatusCode::OK);
        // Another scan of the same code (a photo of the phone, a second visit): used.
        let again = identify(&h, &code, "scan-2").await;
        assert_eq!(again.status(), StatusCode::CONFLICT);
        assert_eq!(problem(again).await.code, ProblemCode::IdentityCodeUsed);
        // Retrying without a key is no retry either.
        let keyless = h
            .kiosk_post("/v1/identity/code")
            .json(&IdentityCodeRequest { code: code.clone() })
            .send()
            .await
            .unwrap();
        assert_eq!(keyless.status(), StatusCode::CONFLICT);

        // A fresh code from the page works again.
        let fresh = code_from_page(&h, 1).await;
        assert_ne!(fresh, code);
        assert_eq!(
            identify(&h, &fresh, "scan-3").await.status(),
            StatusCode::OK
        );
    }
);

both_stores!(
    expired_forged_foreign_and_malformed_codes_are_refused,
    |backend: Backend| async move {
        let clock = Clock::manual(datetime!(2026-11-24 02:00 +08:00));
        let h = Harness::start_with(backend, page_options(&clock)).await;
        let code = code_from_page(&h, 0).await;

        // One character of the sealed part changed.
        let mut forged: Vec<char> = code.chars().collect();
        let i = forged.len() - 5;
        forged[i] = if forged[i] == 'Q' { 'R' } else { 'Q' };
        let forged: String = forged.into_iter().collect();
        let answer = identify(&h, &forged, "forged").await;
        assert_eq!(answer.status(), StatusCode::NOT_FOUND);
        assert_eq!(problem(answer).await.code, ProblemCode::IdentityCodeUnknown);

        // Well made, but by another deployment's key.
        let other = IdentityCodeVerifier::derive(&ed25519_dalek::SigningKey::from_bytes(&[9; 32]))
            .seal(
                DEMO_RESIDENTS[0].card_number,
                datetime!(2026-11-24 02:05 +08:00),
            )
            .unwrap();
        let answer = identify(&h, &other, "foreign").await;
        assert_eq!(problem(answer).await.code, ProblemCode::IdentityCodeUnknown);

        // Cut short in the sealed part: it still decodes, but does not open.
        let answer = identify(&h, &code[..code.len() - 8], "cut").await;
        assert_eq!(problem(answer).await.code, ProblemCode::IdentityCodeUnknown);

        for text in ["hello", "EID1:", "https://example.invalid/", &code[..20]] {
            let answer = identify(&h, text, "malformed").await;
            assert_eq!(answer.status(), StatusCode::UNPROCESSABLE_ENTITY, "{text}");
            assert_eq!(
                problem(answer).await.code,
                ProblemCode::IdentityCodeMalformed
            );
        }

        // Past its life: refused as expired, and not spent.
        clock.set(datetime!(2026-11-24 02:00 +08:00) + IDENTITY_CODE_TTL);
        let answer = identify(&h, &code, "late").await;
        assert_eq!(answer.status(), StatusCode::GONE);
        assert_eq!(problem(answer).await.code, ProblemCode::IdentityCodeExpired);
        assert_eq!(h.rows("SELECT COUNT(*) FROM identity_code_uses"), 0);

        // Uses are forgotten a day after their code expired.
        let store = h.central.store().clone();
        clock.set(datetime!(2026-11-24 02:00 +08:00));
        let fresh = code_from_page(&h, 0).await;
        assert_eq!(identify(&h, &fresh, "ok").await.status(), StatusCode::OK);
        let pruned = estation_central::server::identity_code::prune_identity_code_uses(
            &*store,
            datetime!(2026-11-25 02:06 +08:00),
        )
        .await
        .unwrap();
        assert_eq!(pruned, 1);
        assert_eq!(h.rows("SELECT COUNT(*) FROM identity_code_uses"), 0);
    }
);

both_stores!(
    of_racing_scans_of_one_code_exactly_one_wins,
    |backend: Backend| async move {
        let clock = Clock::manual(datetime!(2026-11-24 02:00 +08:00));
        let h = Harness::start_with(backend, page_options(&clock)).await;
        let code = code_from_page(&h, 2).await;
        let answers = futures_join(&h, &code, 8).await;
        let won = answers.iter().filter(|s| **s == StatusCode::OK).count();
        assert_eq!(won, 1, "{answers:?}");
        assert!(
            answers
                .iter()
                .all(|s| *s == StatusCode::OK || *s == StatusCode::CONFLICT),
            "{answers:?}"
        );
        assert_eq!(h.rows("SELECT COUNT(*) FROM identity_code_uses"), 1);
    }
);

async fn futures_join(h: &Harness, code: &str, n: usize) -> Vec<StatusCode> {
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let request = h.post(
            "/v1/identity/code",
            &format!("race-{i}"),
            &IdentityCodeRequest { code: code.into() },
        );
        tasks.spawn(async move { request.send().await.unwrap().status() });
    }
    let mut statuses = Vec::new();
    while let Some(status) = tasks.join_next().await {
        statuses.push(status.unwrap());
    }
    statuses
}

both_stores!(
    a_kiosk_scanning_too_fast_is_held_back,
    |backend: Backend| async move {
        let h = Harness::start(backend).await;
        let mut statuses = Vec::new();
        for i in 0..12 {
            statuses.push(identify(&h, "garbage", &format!("k{i}")).await.status());
        }
        assert!(
            statuses[..10]
                .iter()
                .all(|s| *s == StatusCode::UNPROCESSABLE_ENTITY),
            "{statuses:?}"
        );
        assert_eq!(statuses[11], StatusCode::TOO_MANY_REQUESTS, "{statuses:?}");
    }
);

#[tokio::test]
async fn the_phone_page_is_served_only_when_asked_for_and_checks_the_resident() {
    let h = Harness::start(Backend::Sqlite).await;
    let off = h.http.get(h.url("/m/id")).send().await.unwrap();
    assert_eq!(off.status(), StatusCode::NOT_FOUND);

    let clock = Clock::system();
    let h = Harness::start_with(Backend::Sqlite, page_options(&clock)).await;
    let form = h.http.get(h.url("/m/id")).send().await.unwrap();
    assert_eq!(form.status(), StatusCode::OK);
    assert!(form.text().await.unwrap().contains("name=\"card_number\""));
    let wrong = h
        .http
        .post(h.url("/m/id"))
        .form(&[
            ("card_number", DEMO_RESIDENTS[0].card_number),
            ("id_number", DEMO_RESIDENTS[1].id_number),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    assert!(!wrong.text().await.unwrap().contains("identity-code\""));
}
