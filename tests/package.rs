//! The Debian package and its systemd units (packaging/, scripts/package).
//!
//! - the annotated /etc/estation/kiosk.toml loads as the kiosk's configuration and
//!   documents every field;
//! - display-setup turns touch input exactly as the picture is turned, for the
//!   console kiosk (Slint's software renderer) and for cage (wlroots);
//! - every unit passes `systemd-analyze verify` and keeps its hardening
//!   (`systemd-analyze security --offline`);
//! - the .deb builds from the binaries the tests already built, holds what it must
//!   with the right modes, conffiles, dependencies and maintainer scripts, passes
//!   lintian without errors, and (as root) installs and purges: the service account
//!   and the state directory appear and disappear.
//!
//! Tools come from scripts/setup.sh; without them, or without root for the install,
//! a test is skipped loudly, except under `CI=true`, where it fails.

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use estation::cli::config::LocalConfig;

const UNITS: &[(&str, &str)] = &[
    ("estation.service", "estation.service"),
    ("estation.estation-cage.service", "estation-cage.service"),
    (
        "estation.estation-display.service",
        "estation-display.service",
    ),
    ("estation.estation-retry.service", "estation-retry.service"),
    ("estation.estation-retry.timer", "estation-retry.timer"),
];

/// lintian warnings the package keeps on purpose (docs/deployment.md says why).
/// Anything else fails the test, so a new warning is looked at, not piled up.
const ACCEPTED_LINTIAN_WARNINGS: &[&str] = &[
    // Not a Debian archive upload: there are no Debian bugs to close.
    "initial-upload-closes-no-bugs",
    // `--help` of each subcommand is the reference; no man pages yet.
    "no-manual-page",
];

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| value == "true")
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// False (and a loud skip) when a tool is missing; a failure under CI=true, where
/// scripts/setup.sh must have installed it.
fn tools_present(test: &str, tools: &[&[&str]]) -> bool {
    let missing: Vec<String> = tools
        .iter()
        .filter(|command| {
            Command::new(command[0])
                .args(&command[1..])
                .output()
                .map(|output| !output.status.success())
                .unwrap_or(true)
        })
        .map(|command| command.join(" "))
        .collect();
    if missing.is_empty() {
        return true;
    }
    assert!(
        !in_ci(),
        "{test}: {missing:?} not available; scripts/setup.sh installs them"
    );
    eprintln!("SKIPPED {test}: {missing:?} not available (scripts/setup.sh installs them)");
    false
}

fn run(command: &mut Command) -> Output {
    let shown = format!("{command:?}");
    let output = command
        .output()
        .unwrap_or_else(|error| panic!("{shown}: {error}"));
    assert!(
        output.status.success(),
        "{shown} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn stdout(command: &mut Command) -> String {
    String::from_utf8(run(command).stdout).expect("UTF-8 output")
}

// ---------------------------------------------------------------------------
// kiosk.toml

#[test]
fn example_configuration_loads_and_documents_every_field() {
    let example = std::fs::read_to_string(repo().join("packaging/kiosk.toml")).unwrap();
    let dir = tempfile::tempdir().unwrap();

    // As shipped, the kiosk refuses it: not enrolled.
    let shipped = dir.path().join("shipped.toml");
    std::fs::write(&shipped, &example).unwrap();
    let refused = LocalConfig::load(&shipped).expect_err("an empty kiosk_id is refused");
    assert!(refused.to_string().contains("kiosk_id"), "{refused}");

    // Enrolled (the id filled in), it loads with the values the units rely on.
    let enrolled = dir.path().join("enrolled.toml");
    std::fs::write(
        &enrolled,
        example.replace("kiosk_id = \"\"", "kiosk_id = \"binjiang-03\""),
    )
    .unwrap();
    let config = LocalConfig::load(&enrolled).expect("the enrolled example loads");
    assert_eq!(config.kiosk_id, "binjiang-03");
    // estation.service starts once this file exists (ConditionPathExists).
    assert_eq!(config.token_file, Path::new("/etc/estation/token"));
    // The only directory the service may write (StateDirectory=estation).
    assert_eq!(config.data_dir, Path::new("/var/lib/estation"));
    assert_eq!(config.printer, "usb:/dev/usb/lp0");
    assert!(config.config_keys.is_empty());
    assert!(config.display.fullscreen);
    assert_eq!((config.display.width, config.display.height), (1080, 1920));

    // Every field is set (not only commented) and annotated by a comment above it.
    let lines: Vec<&str> = example.lines().collect();
    for key in [
        "kiosk_id",
        "central_url",
        "token_file",
        "printer",
        "data_dir",
        "config_keys",
        "fullscreen",
        "width",
        "height",
        "rotation",
    ] {
        let at = lines
            .iter()
            .position(|line| line.starts_with(&format!("{key} =")))
            .unwrap_or_else(|| panic!("kiosk.toml does not set {key}"));
        assert!(
            lines[..at]
                .iter()
                .rev()
                .take_while(|line| !line.is_empty())
                .any(|line| line.starts_with('#')),
            "kiosk.toml: {key} has no comment above it"
        );
    }
    assert_eq!(config.display.rotation, 0);
    // Every turn display-setup knows is accepted; anything else is refused by name.
    for (turn, accepted) in [(90, true), (180, true), (270, true), (45, false)] {
        let rotated = dir.path().join(format!("rotation-{turn}.toml"));
        std::fs::write(
            &rotated,
            std::fs::read_to_string(&enrolled)
                .unwrap()
                .replace("rotation = 0", &format!("rotation = {turn}")),
        )
        .unwrap();
        match LocalConfig::load(&rotated) {
            Ok(config) => {
                assert!(accepted, "rotation {turn} should be refused");
                assert_eq!(config.display.rotation, turn);
            }
            Err(error) => {
                assert!(!accepted, "rotation {turn} refused: {error}");
                assert!(error.to_string().contains("rotation"), "{error}");
            }
        }
    }
}

// ---------------------------------------------------------------------------
// display-setup: rotation of the picture and of touch input

/// Where Slint's software renderer puts window pixel (x, y) on the panel for a
/// rotation (i-slint-renderer-software 1.18, `RotationInfo` and `Transform for
/// Point2D`: mirror x for 180/270, mirror y for 90/180, in the window's size,
/// then swap x and y for 90/270). The window is the panel turned: its size is the
/// panel's, transposed for 90 and 270.
fn slint_window_to_panel(rotation: u32, window: (f64, f64), point: (f64, f64)) -> (f64, f64) {
    let (width, height) = window;
    let (mut x, mut y) = point;
    if matches!(rotation, 180 | 270) {
        x = width - 1.0 - x;
    }
    if matches!(rotation, 90 | 180) {
        y = height - 1.0 - y;
    }
    if matches!(rotation, 90 | 270) {
        (y, x)
    } else {
        (x, y)
    }
}

/// wlroots' touch transform for a touch screen mapped to an output with this
/// transform (wlr_cursor.c, `apply_output_transform`), in 0..1 coordinates.
fn wlroots_touch(transform: u32, (x, y): (f64, f64)) -> (f64, f64) {
    match transform {
        0 => (x, y),
        90 => (1.0 - y, x),
        180 => (1.0 - x, 1.0 - y),
        270 => (y, 1.0 - x),
        other => panic!("transform {other}"),
    }
}

fn apply_matrix(matrix: &[f64; 6], (x, y): (f64, f64)) -> (f64, f64) {
    (
        matrix[0] * x + matrix[1] * y + matrix[2],
        matrix[3] * x + matrix[4] * y + matrix[5],
    )
}

fn env_file(path: &Path) -> Vec<(String, String)> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()))
        .lines()
        .map(|line| {
            let (key, value) = line.split_once('=').expect("KEY=value");
            (key.to_owned(), value.to_owned())
        })
        .collect()
}

fn run_display_setup(dir: &Path, display_table: &str) -> (Output, PathBuf) {
    let config = dir.join("kiosk.toml");
    // A rotation outside [display] and a commented one must not count.
    std::fs::write(
        &config,
        format!(
            "kiosk_id = \"k\"\n# rotation = 180\n[display] # the panel\nfullscreen = true\n{display_table}\n[other]\nrotation = 180\n"
        ),
    )
    .unwrap();
    let out = dir.join("run");
    let _ = std::fs::remove_dir_all(&out);
    let console = dir.join("tty1");
    std::fs::write(&console, b"").unwrap();
    let output = Command::new("sh")
        .arg(repo().join("packaging/libexec/display-setup"))
        .arg(&config)
        .env("RUNTIME_DIRECTORY", &out)
        .env("ESTATION_CONSOLE", &console)
        .output()
        .expect("running display-setup");
    (output, out)
}

#[test]
fn display_setup_turns_touch_input_with_the_picture() {
    let dir = tempfile::tempdir().unwrap();
    let panel = (1920.0, 1080.0);
    for rotation in [0u32, 90, 180, 270] {
        let (output, out) = run_display_setup(dir.path(), &format!("rotation = {rotation}"));
        assert!(output.status.success(), "{output:?}");
        let env = env_file(&out.join("kiosk.env"));
        assert_eq!(env[0], ("SLINT_KMS_ROTATION".into(), rotation.to_string()));
        let cage_flags = &env[1];
        assert_eq!(cage_flags.0, "ESTATION_CAGE_ROTATION");
        let quarter_turns = cage_flags.1.split_whitespace().count() as u32;
        assert!(cage_flags.1.split_whitespace().all(|flag| flag == "-r"));

        let touch = out.join("touch.env");
        if rotation == 0 {
            assert!(!touch.exists(), "an upright picture leaves touch alone");
            assert_eq!(quarter_turns, 0);
            continue;
        }
        let touch = env_file(&touch);
        assert_eq!(touch[0].0, "LIBINPUT_CALIBRATION_MATRIX");
        let numbers: Vec<f64> = touch[0]
            .1
            .split_whitespace()
            .map(|n| n.parse().unwrap())
            .collect();
        let matrix: [f64; 6] = numbers.try_into().expect("six numbers");

        // Console kiosk: a touch on the panel pixel where Slint draws window pixel
        // (x, y) must reach the window at (x, y).
        let window = if rotation % 180 == 90 {
            (panel.1, panel.0)
        } else {
            panel
        };
        for point in [
            (0.0, 0.0),
            (window.0 - 1.0, 0.0),
            (0.0, window.1 - 1.0),
            (window.0 - 1.0, window.1 - 1.0),
            (window.0 * 0.25, window.1 * 0.75),
        ] {
            let (px, py) = slint_window_to_panel(rotation, window, point);
            let touched = ((px + 0.5) / panel.0, (py + 0.5) / panel.1);
            let (tx, ty) = apply_matrix(&matrix, touched);
            let reached = (tx * window.0, ty * window.1);
            assert!(
                (reached.0 - (point.0 + 0.5)).abs() < 0.01
                    && (reached.1 - (point.1 + 0.5)).abs() < 0.01,
                "rotation {rotation}: window pixel {point:?} is drawn at panel {:?}, \
                 but a touch there reaches {reached:?}",
                (px, py)
            );
        }

        // cage: each -r is wlroots' output transform 90; a touch screen mapped to
        // that output would be turned by wlroots exactly as the matrix turns it.
        let transform = (quarter_turns * 90) % 360;
        assert_eq!((rotation + transform) % 360, 0, "cage turns the other way");
        for touched in [(0.0, 0.0), (1.0, 0.0), (0.2, 0.9), (0.5, 0.5)] {
            let ours = apply_matrix(&matrix, touched);
            let wlroots = wlroots_touch(transform, touched);
            assert!(
                (ours.0 - wlroots.0).abs() < 1e-9 && (ours.1 - wlroots.1).abs() < 1e-9,
                "rotation {rotation}: calibration gives {ours:?}, wlroots {wlroots:?}"
            );
        }
    }

    // The console: no blanking, no power-down, no cursor.
    let console = std::fs::read(dir.path().join("tty1")).unwrap();
    assert_eq!(console, b"\x1b[9;0]\x1b[14;0]\x1b[?25l\x1b[H\x1b[2J");

    // A rotation the panel cannot do: upright, said in the journal, not fatal.
    let (output, out) = run_display_setup(dir.path(), "rotation = 45");
    assert!(output.status.success(), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("must be 0, 90, 180 or 270"));
    assert_eq!(env_file(&out.join("kiosk.env"))[0].1, "0");
    assert!(!out.join("touch.env").exists());

    // No rotation key: upright.
    let (output, out) = run_display_setup(dir.path(), "");
    assert!(output.status.success(), "{output:?}");
    assert_eq!(env_file(&out.join("kiosk.env"))[0].1, "0");
}

// ---------------------------------------------------------------------------
// systemd units

/// The units with their installed names in a directory of their own, their
/// programs pointed at this build (systemd-analyze verify checks that every
/// command exists and is executable).
fn units_for_verify(dir: &Path, estation: &Path, libexec: &Path) -> Vec<PathBuf> {
    UNITS
        .iter()
        .map(|(source, installed)| {
            let text = std::fs::read_to_string(repo().join("packaging/systemd").join(source))
                .unwrap()
                .replace("/usr/bin/estation ", &format!("{} ", estation.display()))
                .replace("/usr/libexec/estation/", &format!("{}/", libexec.display()));
            let path = dir.join(installed);
            std::fs::write(&path, text).unwrap();
            path
        })
        .collect()
}

fn verify_units(units: &[PathBuf], search_path: &Path) {
    let output = Command::new("systemd-analyze")
        .arg("verify")
        .args(units)
        .env("SYSTEMD_UNIT_PATH", format!("{}:", search_path.display()))
        .output()
        .expect("running systemd-analyze verify");
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Unknown keys and bad values are only warnings for verify's exit status: any
    // word from it is a finding.
    assert!(
        output.status.success() && stderr.trim().is_empty(),
        "systemd-analyze verify ({}):\n{stderr}",
        output.status
    );
}

fn exposure(unit: &Path, search_path: &Path) -> f64 {
    let text = stdout(
        Command::new("systemd-analyze")
            .args(["security", "--offline=true", "--no-pager"])
            .arg(unit)
            .env("SYSTEMD_UNIT_PATH", format!("{}:", search_path.display())),
    );
    let line = text
        .lines()
        .find(|line| line.contains("Overall exposure level"))
        .unwrap_or_else(|| panic!("no exposure level in:\n{text}"));
    line.split(':')
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
        .unwrap_or_else(|| panic!("unreadable exposure line {line:?}"))
}

#[test]
fn units_pass_verify_and_stay_hardened() {
    let test = "units_pass_verify_and_stay_hardened";
    if !tools_present(test, &[&["systemd-analyze", "--version"]]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let estation = Path::new(env!("CARGO_BIN_EXE_estation"));
    let units = units_for_verify(dir.path(), estation, &repo().join("packaging/libexec"));
    verify_units(&units, dir.path());

    // The hardened kiosk against the same kiosk as a plain unit.
    let plain = dir.path().join("plain").join("estation.service");
    std::fs::create_dir(plain.parent().unwrap()).unwrap();
    std::fs::write(
        &plain,
        format!(
            "[Unit]\nDescription=estation kiosk, no hardening\n[Service]\nType=notify\n\
             ExecStart={} run --config /etc/estation/kiosk.toml\nRestart=always\n",
            estation.display()
        ),
    )
    .unwrap();
    let before = exposure(&plain, dir.path());
    eprintln!("exposure: plain estation.service {before}");
    for unit in &units {
        if unit.extension().is_some_and(|ext| ext == "timer") {
            continue;
        }
        let after = exposure(unit, dir.path());
        eprintln!("exposure: {} {after}", unit.display());
        // systemd's scale: below 2.0 is "OK"; display-setup runs as root and
        // writes to the console and to sysfs, so it gets a little more room.
        let limit = if unit.ends_with("estation-display.service") {
            2.5
        } else {
            2.0
        };
        assert!(
            after <= limit,
            "{}: exposure {after} (plain unit: {before})",
            unit.display()
        );
    }
    assert!(before > 9.0, "the plain unit's exposure {before}");

    // What the escalation relies on.
    let kiosk = std::fs::read_to_string(&units[0]).unwrap();
    for line in [
        "Type=notify",
        "NotifyAccess=main",
        "WatchdogSec=30s",
        "Restart=always",
        "StartLimitBurst=5",
        "OnFailure=estation-retry.timer",
        "RestartPreventExitStatus=78",
        "DevicePolicy=closed",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "User=estation",
        "Environment=SLINT_BACKEND=linuxkms-software",
        "ExecStart=",
    ] {
        assert!(
            kiosk.lines().any(|l| l.starts_with(line)),
            "estation.service lacks {line}"
        );
    }
    let retry = std::fs::read_to_string(dir.path().join("estation-retry.service")).unwrap();
    assert!(retry.contains("StartLimitAction=reboot"));
}

// ---------------------------------------------------------------------------
// The .deb

struct Deb {
    path: PathBuf,
    _dir: tempfile::TempDir,
}

/// Packages the binaries the tests were built with (debug: a release build would
/// cost CI a second full build of the tree), as `scripts/package --profile dev
/// --no-build --fast` does.
fn build_deb() -> Deb {
    let estation = PathBuf::from(env!("CARGO_BIN_EXE_estation"));
    let profile_dir = estation.parent().unwrap();
    let profile = match profile_dir.file_name().and_then(|name| name.to_str()) {
        Some("debug") => "dev".to_owned(),
        Some(other) => other.to_owned(),
        None => panic!("no profile directory above {}", estation.display()),
    };
    let target_dir = profile_dir.parent().unwrap();
    if !profile_dir.join("estation-central").is_file() {
        // `cargo nextest run --workspace` builds it; a run of this package alone may not.
        run(Command::new(env!("CARGO"))
            .args(["build", "--locked", "-p", "estation-central", "--bin"])
            .arg("estation-central")
            .args(["--profile", &profile])
            .env("CARGO_TARGET_DIR", target_dir)
            .current_dir(repo()));
    }
    let dir = tempfile::tempdir().unwrap();
    let output = stdout(
        Command::new(repo().join("scripts/package"))
            .args(["--profile", &profile, "--no-build", "--fast", "--output"])
            .arg(dir.path())
            .env("CARGO_TARGET_DIR", target_dir)
            .current_dir(repo()),
    );
    let path = PathBuf::from(output.lines().last().expect("the package's path").trim());
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        path.file_name()
            .and_then(|name| name.to_str())
            .is_some_and(|name| name.starts_with(&format!("estation_{version}"))
                && name.ends_with("_amd64.deb")),
        "{}",
        path.display()
    );
    Deb { path, _dir: dir }
}

fn field(control: &str, name: &str) -> String {
    control
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{name}: ")))
        .unwrap_or_else(|| panic!("no {name} in:\n{control}"))
        .to_owned()
}

fn check_contents(deb: &Path) {
    let control = stdout(Command::new("dpkg-deb").arg("--field").arg(deb));
    assert_eq!(field(&control, "Package"), "estation");
    assert_eq!(field(&control, "Architecture"), "amd64");
    let depends: BTreeSet<String> = field(&control, "Depends")
        .split(',')
        .map(|d| d.split_whitespace().next().unwrap().to_owned())
        .collect();
    for needed in [
        "pcscd",
        "fonts-noto-cjk",
        "systemd",
        "libc6",
        "libinput10",
        "libudev1",
        "libxkbcommon0",
        "libpcsclite1",
        "libfontconfig1",
    ] {
        assert!(
            depends.contains(needed),
            "Depends lacks {needed}: {depends:?}"
        );
    }

    // Files and modes, from the data archive's listing.
    let listing = stdout(Command::new("dpkg-deb").arg("--contents").arg(deb));
    let mut modes = std::collections::BTreeMap::new();
    for line in listing.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (mode, owner, path) = (fields[0], fields[1], fields[fields.len() - 1]);
        assert_eq!(owner, "0/0", "{path} is not root's");
        modes.insert(path.trim_start_matches('.').to_owned(), mode.to_owned());
    }
    for (path, mode) in [
        ("/usr/bin/estation", "-rwxr-xr-x"),
        ("/usr/bin/estation-central", "-rwxr-xr-x"),
        ("/etc/estation/kiosk.toml", "-rw-r--r--"),
        ("/usr/lib/systemd/system/estation.service", "-rw-r--r--"),
        (
            "/usr/lib/systemd/system/estation-cage.service",
            "-rw-r--r--",
        ),
        (
            "/usr/lib/systemd/system/estation-display.service",
            "-rw-r--r--",
        ),
        (
            "/usr/lib/systemd/system/estation-retry.service",
            "-rw-r--r--",
        ),
        ("/usr/lib/systemd/system/estation-retry.timer", "-rw-r--r--"),
        ("/usr/libexec/estation/display-setup", "-rwxr-xr-x"),
        ("/lib/udev/rules.d/70-estation.rules", "-rw-r--r--"),
        ("/usr/lib/sysusers.d/estation.conf", "-rw-r--r--"),
        ("/usr/lib/tmpfiles.d/estation.conf", "-rw-r--r--"),
        ("/usr/share/doc/estation/copyright", "-rw-r--r--"),
        ("/usr/share/doc/estation/changelog.Debian.gz", "-rw-r--r--"),
        ("/usr/share/doc/estation/deployment.md", "-rw-r--r--"),
    ] {
        assert_eq!(
            modes.get(path).map(String::as_str),
            Some(mode),
            "{path} in:\n{listing}"
        );
    }
    assert!(
        !modes
            .keys()
            .any(|path| path.starts_with("/var/lib/estation")),
        "state is created on installation, not shipped"
    );

    // The control archive: conffiles and maintainer scripts.
    let control_dir = tempfile::tempdir().unwrap();
    run(Command::new("dpkg-deb")
        .arg("--control")
        .arg(deb)
        .arg(control_dir.path()));
    let read = |name: &str| std::fs::read_to_string(control_dir.path().join(name)).unwrap();
    assert_eq!(read("conffiles").trim(), "/etc/estation/kiosk.toml");
    for script in ["postinst", "postrm", "prerm"] {
        let mode = std::fs::metadata(control_dir.path().join(script))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o755, "{script}");
        run(Command::new("sh")
            .arg("-n")
            .arg(control_dir.path().join(script)));
    }
    let postinst = read("postinst");
    assert!(postinst.contains("systemd-sysusers"));
    assert!(postinst.contains("systemd-tmpfiles"));
    assert!(postinst.contains("deb-systemd-helper enable estation.service"));
    // The cage alternative is chosen by the administrator: only kept enabled on
    // upgrades if it was.
    assert!(postinst.contains("if deb-systemd-helper debian-installed estation-cage.service"));
    assert!(!postinst.contains("#DEBHELPER#"));
    let postrm = read("postrm");
    assert!(postrm.contains("userdel estation"));
    assert!(postrm.contains("rm -rf /var/lib/estation"));
}

fn check_lintian(deb: &Path) {
    let output = Command::new("lintian")
        .arg("--no-tag-display-limit")
        .arg(deb)
        .output()
        .expect("running lintian");
    let report = String::from_utf8_lossy(&output.stdout);
    eprintln!("lintian:\n{report}");
    let errors: Vec<&str> = report.lines().filter(|l| l.starts_with("E:")).collect();
    assert!(errors.is_empty(), "lintian errors:\n{}", errors.join("\n"));
    let unexpected: Vec<&str> = report
        .lines()
        .filter(|line| line.starts_with("W:"))
        .filter(|line| {
            !ACCEPTED_LINTIAN_WARNINGS
                .iter()
                .any(|tag| line.contains(&format!(": {tag}")))
        })
        .collect();
    assert!(
        unexpected.is_empty(),
        "new lintian warnings (fix them, or accept them in this test and docs/deployment.md):\n{}",
        unexpected.join("\n")
    );
}

/// dpkg refuses at once when another dpkg or apt holds its lock: wait for it.
fn dpkg(args: &[&str], deb: Option<&Path>) -> Output {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let mut command = Command::new("dpkg");
        command.args(args);
        if let Some(deb) = deb {
            command.arg(deb);
        }
        command.env("DEBIAN_FRONTEND", "noninteractive");
        let output = command.output().expect("running dpkg");
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() && stderr.contains("lock") && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(500));
            continue;
        }
        return output;
    }
}

fn account() -> Option<String> {
    let output = Command::new("getent")
        .args(["passwd", "estation"])
        .output()
        .unwrap();
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

fn install_and_purge(deb: &Path) {
    // A run that died half-way leaves the package installed: start clean.
    dpkg(&["--purge", "estation"], None);

    let installed = dpkg(&["--install"], Some(deb));
    if !installed.status.success() {
        // Dependencies missing on this machine: apt-get fetches them and finishes
        // the configuration (scripts/setup.sh installs them beforehand in CI).
        run(Command::new("apt-get")
            .args([
                "install",
                "--fix-broken",
                "--yes",
                "--no-install-recommends",
            ])
            .env("DEBIAN_FRONTEND", "noninteractive"));
    }
    let status =
        stdout(Command::new("dpkg-query").args(["--show", "--showformat=${Status}", "estation"]));
    assert_eq!(status, "install ok installed");

    // The service account: a system user with no login, in the device groups.
    let passwd = account().expect("the estation account exists");
    let fields: Vec<&str> = passwd.split(':').collect();
    let uid: u32 = fields[2].parse().unwrap();
    assert!(uid < 1000, "not a system user: {passwd}");
    assert_eq!(fields[5], "/var/lib/estation");
    assert_eq!(fields[6], "/usr/sbin/nologin");
    let groups = stdout(Command::new("id").args(["-nG", "estation"]));
    for group in ["estation", "video", "input", "lp", "dialout", "audio"] {
        assert!(
            groups.split_whitespace().any(|g| g == group),
            "estation is not in {group}: {groups}"
        );
    }
    // The state directory, the service account's own.
    let state = std::fs::metadata("/var/lib/estation").expect("/var/lib/estation exists");
    assert!(state.is_dir());
    assert_eq!(state.permissions().mode() & 0o7777, 0o750);
    let owner = stdout(Command::new("stat").args(["-c", "%U:%G", "/var/lib/estation"]));
    assert_eq!(owner.trim(), "estation:estation");
    // The kiosk is enabled (it starts once enrolled); the cage alternative is not.
    assert!(Path::new("/etc/systemd/system/multi-user.target.wants/estation.service").exists());
    assert!(
        !Path::new("/etc/systemd/system/multi-user.target.wants/estation-cage.service").exists()
    );
    // The installed units, with their real paths.
    let installed_units: Vec<PathBuf> = UNITS
        .iter()
        .map(|(_, name)| Path::new("/usr/lib/systemd/system").join(name))
        .collect();
    verify_units(&installed_units, Path::new("/usr/lib/systemd/system"));
    // The installed kiosk runs.
    let version = stdout(Command::new("/usr/bin/estation").arg("--version"));
    assert!(version.contains(env!("CARGO_PKG_VERSION")), "{version}");

    // What enrollment adds, for purge to remove.
    std::fs::write("/etc/estation/token", "test-token\n").unwrap();
    std::fs::write("/var/lib/estation/outbox.sqlite", b"").unwrap();

    let purged = dpkg(&["--purge", "estation"], None);
    assert!(purged.status.success(), "{purged:?}");
    assert!(account().is_none(), "the account outlived purge");
    let group = Command::new("getent")
        .args(["group", "estation"])
        .output()
        .unwrap();
    assert!(!group.status.success(), "the group outlived purge");
    for gone in [
        "/var/lib/estation",
        "/var/cache/estation",
        "/etc/estation",
        "/usr/bin/estation",
        "/usr/lib/systemd/system/estation.service",
        "/etc/systemd/system/multi-user.target.wants/estation.service",
    ] {
        assert!(!Path::new(gone).exists(), "{gone} outlived purge");
    }
}

#[test]
fn debian_package_builds_installs_and_purges() {
    let test = "debian_package_builds_installs_and_purges";
    if !tools_present(
        test,
        &[
            &[env!("CARGO"), "deb", "--version"],
            &["dpkg-deb", "--version"],
            &["lintian", "--version"],
            &["systemd-analyze", "--version"],
        ],
    ) {
        return;
    }
    // Durations go to the log (what this test adds to CI), never into assertions.
    let started = Instant::now();
    let deb = build_deb();
    eprintln!("{test}: package built in {:.1?}", started.elapsed());
    check_contents(&deb.path);
    let linted = Instant::now();
    check_lintian(&deb.path);
    eprintln!("{test}: lintian took {:.1?}", linted.elapsed());
    if !is_root() {
        assert!(
            !in_ci(),
            "{test}: CI runs as root, and installing needs root"
        );
        eprintln!("SKIPPED {test} (install and purge): not root");
        return;
    }
    let installed = Instant::now();
    install_and_purge(&deb.path);
    eprintln!("{test}: install and purge took {:.1?}", installed.elapsed());
}
