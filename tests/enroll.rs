//! `estation enroll` end to end over loopback: an administrator's one-time code
//! becomes a filled-in kiosk.toml, a private token file that the central
//! service accepts, and trust anchors that verify the administrator's bundles.
//! A used, wrong or unsafe request changes nothing on disk.

use std::path::Path;
use std::process::{Command, Output};

use estation::central_client::{CentralClient, ClientConfig};
use estation::cli::config::LocalConfig;
use estation::ops::bundle::{KeyPair, TrustAnchors, key_id};
use estation_central::server::EmbeddedCentral;
use estation_central::server::enroll::issue_enrollment_code;
use estation_central::server::public_key_info;
use estation_central::wire::EnrollmentCodeRequest;

const PACKAGED_CONFIG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/packaging/kiosk.toml");

async fn estation_enroll(central: &str, code: &str, config: &Path) -> Output {
    let (central, code, config) = (central.to_owned(), code.to_owned(), config.to_owned());
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_estation"))
            .args(["enroll", "--central", &central, "--code", &code, "--config"])
            .arg(&config)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn one_command_enrolls_a_kiosk_and_a_used_or_wrong_code_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let central = EmbeddedCentral::start(&dir.path().join("central"))
        .await
        .unwrap();
    let url = central.base_url().to_owned();
    let admin_key = KeyPair::generate();
    let code = issue_enrollment_code(
        &**central.store(),
        "ops-wang",
        &EnrollmentCodeRequest {
            kiosk_id: "binjiang-09".into(),
            ttl_secs: 3600,
            config_keys: vec![public_key_info(&admin_key.verifying_key())],
        },
        time::OffsetDateTime::now_utc(),
    )
    .await
    .unwrap();

    // The packaged example, as a fresh installation has it (paths moved into
    // the test's folder).
    let etc = dir.path().join("etc");
    std::fs::create_dir_all(&etc).unwrap();
    let config_path = etc.join("kiosk.toml");
    let example = std::fs::read_to_string(PACKAGED_CONFIG)
        .unwrap()
        .replace("/etc/estation/token", etc.join("token").to_str().unwrap())
        .replace(
            "/var/lib/estation",
            dir.path().join("state").to_str().unwrap(),
        );
    std::fs::write(&config_path, &example).unwrap();
    assert!(LocalConfig::load(&config_path).is_err(), "not enrolled yet");

    let output = estation_enroll(&url, &code.code, &config_path).await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("enrolled as binjiang-09"));

    let config = LocalConfig::load(&config_path).unwrap();
    assert_eq!(config.kiosk_id, "binjiang-09");
    assert_eq!(config.central_url, url);
    assert_eq!(config.token_file, etc.join("token"));
    // Everything else, comments included, is as the example had it.
    let written = std::fs::read_to_string(&config_path).unwrap();
    for kept in [
        "# The printer, as a URI:",
        "printer = \"usb:/dev/usb/lp0\"",
        "[display]",
        "rotation = 0",
    ] {
        assert!(written.contains(kept), "lost {kept:?}:\n{written}");
    }

    // The token is private, and the central service accepts it.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&config.token_file)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let client = CentralClient::new(ClientConfig::new(
        &url,
        &config.kiosk_id,
        &config.token().unwrap(),
    ))
    .unwrap();
    assert!(!client.catalogue().await.unwrap().services.is_empty());

    // The trust anchors: the administrator's key, not the service's own.
    let anchors = TrustAnchors::from_files(&config.config_keys).unwrap();
    assert_eq!(anchors.key_ids(), [key_id(&admin_key.verifying_key())]);

    // The same code again, a wrong one, an unsafe URL: refused, nothing touched.
    let token_before = std::fs::read(&config.token_file).unwrap();
    let refusals = [
        (url.as_str(), code.code.as_str(), "used already"),
        (
            url.as_str(),
            "0000-0000-0000-0000",
            "does not know this enrollment code",
        ),
        (
            "http://central.example",
            code.code.as_str(),
            "must be https://",
        ),
    ];
    for (central_url, code, message) in refusals {
        let output = estation_enroll(central_url, code, &config_path).await;
        assert!(!output.status.success());
        assert!(stderr(&output).contains(message), "{}", stderr(&output));
        assert_eq!(std::fs::read_to_string(&config_path).unwrap(), written);
        assert_eq!(std::fs::read(&config.token_file).unwrap(), token_before);
    }

    // A service that is away: named, and nothing touched.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let away = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let output = estation_enroll(&away, "AAAA-BBBB-CCCC-DDDD", &config_path).await;
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("cannot be reached"),
        "{}",
        stderr(&output)
    );
    assert_eq!(std::fs::read_to_string(&config_path).unwrap(), written);
}
