//! A bounded property-based run of an independent API tester (schemathesis,
//! from PyPI; scripts/setup.sh installs it into a virtual environment) against
//! the service on each store, with a kiosk's and then an administrator's
//! credentials. It fails on any server error, any status the OpenAPI document
//! does not declare for the operation, and any answer whose content type,
//! headers or body do not match the document.

use std::path::PathBuf;

use crate::support::{Backend, Harness};
use estation_central::server::ServerOptions;

/// Checks that make the run fail.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
response_schema_conformance,response_headers_conformance";
/// Test cases per operation and phase: bounds the run to seconds.
const MAX_EXAMPLES: &str = "15";

fn schemathesis() -> Option<PathBuf> {
    // Where scripts/setup.sh puts it (ESTATION_TOOLS_VENV, else ~/.cache/estation/venv).
    let candidates = [
        std::env::var_os("ESTATION_SCHEMATHESIS").map(PathBuf::from),
        std::env::var_os("ESTATION_TOOLS_VENV")
            .map(|venv| PathBuf::from(venv).join("bin/schemathesis")),
        std::env::var_os("HOME")
            .map(|home| PathBuf::from(home).join(".cache/estation/venv/bin/schemathesis")),
    ];
    if let Some(found) = candidates.into_iter().flatten().find(|p| p.is_file()) {
        return Some(found);
    }
    let on_path = std::env::var_os("PATH")?;
    std::env::split_paths(&on_path)
        .map(|dir| dir.join("schemathesis"))
        .find(|p| p.is_file())
}

async fn run(h: &Harness, tool: &std::path::Path, what: &str, auth: &[String]) {
    let document = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.yaml");
    let report = h.dir.path().join(format!("schemathesis-{what}"));
    let output = tokio::process::Command::new(tool)
        .arg("run")
        .arg(document)
        .args(["--url", h.central.base_url()])
        .args(auth)
        .args(["--checks", CHECKS])
        .args(["--max-examples", MAX_EXAMPLES])
        // One worker: Debian 12's Python 3.11 keeps the `ast` module's recursion
        // depth in shared state (CPython gh-106905), and Hypothesis parsing lambdas
        // in two threads at once fails with "AST constructor recursion depth
        // mismatch": a tester crash, not a finding.
        .args(["--seed", "1", "--workers", "1", "--request-timeout", "10"])
        .args(["--generation-database", "none", "--no-color"])
        .arg("--report-dir")
        .arg(&report)
        .env("SCHEMATHESIS_HOOKS", "")
        .current_dir(h.dir.path())
        .kill_on_drop(true)
        .output()
        .await
        .expect("running schemathesis");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "schemathesis ({what}, {:?}) found problems:\n{stdout}\n{}",
        h.backend,
        String::from_utf8_lossy(&output.stderr)
    );
    // It really ran cases: the summary counts them.
    let cases = stdout
        .lines()
        .find(|l| l.contains(" generated, "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse::<u32>().ok())
        .unwrap_or(0);
    assert!(cases >= 50, "too few test cases ran ({cases}):\n{stdout}");
    eprintln!(
        "schemathesis {what} on {:?}: {cases} cases passed",
        h.backend
    );
}

both_stores!(
    an_independent_property_based_tester_finds_nothing_undeclared,
    |backend: Backend| async move {
        let Some(tool) = schemathesis() else {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("schemathesis is not installed (scripts/setup.sh installs it)");
            }
            eprintln!("SKIPPED: schemathesis is not installed (scripts/setup.sh installs it)");
            return;
        };
        let h = Harness::start_with(backend, ServerOptions::default()).await;
        run(
            &h,
            &tool,
            "kiosk",
            &[
                "--exclude-tag".into(),
                "admin".into(),
                "-H".into(),
                format!("X-Kiosk-Id: {}", h.central.kiosk_id()),
                "-H".into(),
                format!("Authorization: Bearer {}", h.central.kiosk_token()),
            ],
        )
        .await;
        let admin = h.central.register_admin("ops").await.unwrap();
        run(
            &h,
            &tool,
            "admin",
            &[
                "--include-tag".into(),
                "admin".into(),
                "--auth".into(),
                format!("ops:{admin}"),
            ],
        )
        .await;
    }
);
