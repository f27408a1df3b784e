//! systemd's side of the service protocol, played by the test: a `NOTIFY_SOCKET`
//! datagram socket and `WATCHDOG_USEC`. The kiosk, in its real window on Xvfb,
//! says READY once its first frame is on the display, reports its state in STATUS
//! lines, and pings the watchdog from its UI thread, which stops when that thread
//! stalls (the service manager then kills and restarts it).

use crate::support::display;

use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use display::{AT, Group, Xvfb, headless_reference, tools_present};

/// The service manager's end of the protocol.
struct Manager {
    socket: UnixDatagram,
    path: PathBuf,
}

impl Manager {
    fn bind(dir: &Path) -> Manager {
        let path = dir.join("notify.sock");
        let socket = UnixDatagram::bind(&path).unwrap();
        Manager { socket, path }
    }

    /// The next message, waiting until `until` at the latest.
    fn next(&self, until: Instant) -> Option<String> {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return None;
        }
        self.socket.set_read_timeout(Some(left)).unwrap();
        let mut buffer = [0u8; 4096];
        match self.socket.recv(&mut buffer) {
            Ok(n) => Some(String::from_utf8_lossy(&buffer[..n]).trim_end().to_owned()),
            Err(_) => None,
        }
    }

    /// Messages until one satisfies `wanted` (returned with those before it).
    fn until(&self, deadline: Duration, wanted: impl Fn(&str) -> bool) -> Vec<String> {
        let until = Instant::now() + deadline;
        let mut seen = Vec::new();
        while let Some(message) = self.next(until) {
            let done = wanted(&message);
            seen.push(message);
            if done {
                return seen;
            }
        }
        panic!("the kiosk never sent the expected message; it sent {seen:?}");
    }
}

fn kiosk_under(manager: &Manager, xvfb: &Xvfb, watchdog: Duration, args: &[&str]) -> Group {
    let mut command = Command::new(env!("CARGO_BIN_EXE_estation"));
    command
        .args(args)
        .env("DISPLAY", &xvfb.display)
        .env_remove("WAYLAND_DISPLAY")
        .env("NOTIFY_SOCKET", &manager.path)
        .env("WATCHDOG_USEC", watchdog.as_micros().to_string())
        .env_remove("WATCHDOG_PID")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    Group::spawn(&mut command)
}

#[test]
fn ready_comes_with_the_first_frame_then_status_and_a_steady_watchdog() {
    if !tools_present("ready_comes_with_the_first_frame", &["Xvfb", "xwd"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let attract = headless_reference(
        dir.path(),
        1080,
        1920,
        "screenshot attract.png\n",
        &["attract.png"],
    );
    let xvfb = Xvfb::start(1080, 1920);
    let manager = Manager::bind(dir.path());
    let watchdog = Duration::from_secs(4);
    let data = dir.path().join("kiosk");
    let data = data.to_str().unwrap();
    let mut kiosk = kiosk_under(
        &manager,
        &xvfb,
        watchdog,
        &["demo", "--no-card-reader", "--at", AT, "--data", data],
    );
    manager.until(Duration::from_secs(60), |m| m == "READY=1");
    // READY means the picture is on the display now, not later.
    let shown = xvfb.capture();
    assert!(
        shown == attract[0],
        "READY came before the first frame was on the display"
    );
    let status = manager.until(Duration::from_secs(30), |m| m.starts_with("STATUS="));
    assert_eq!(status.last().unwrap(), "STATUS=serving");
    // Pings keep coming, each within the watchdog's timeout of the one before.
    let mut last = Instant::now();
    for _ in 0..4 {
        manager.until(watchdog, |m| m == "WATCHDOG=1");
        assert!(last.elapsed() < watchdog);
        last = Instant::now();
    }
    kiosk.assert_running("estation demo");
}

#[test]
fn pings_stop_when_the_ui_thread_stalls_and_the_restarted_kiosk_is_back_on_attract() {
    if !tools_present(
        "pings_stop_when_the_ui_thread_stalls",
        &["Xvfb", "xwd", "xdotool"],
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let attract = headless_reference(
        dir.path(),
        1080,
        1920,
        "screenshot attract.png\n",
        &["attract.png"],
    );
    let xvfb = Xvfb::start(1080, 1920);
    let manager = Manager::bind(dir.path());
    let watchdog = Duration::from_secs(2);
    let data = dir.path().join("kiosk");
    let data = data.to_str().unwrap();
    let mut kiosk = kiosk_under(
        &manager,
        &xvfb,
        watchdog,
        &[
            "demo",
            "--no-card-reader",
            "--at",
            AT,
            "--data",
            data,
            "--stall-ui-after",
            "4",
        ],
    );
    manager.until(Duration::from_secs(60), |m| m == "READY=1");
    // A visit begins (the language screen) before the UI thread stalls.
    xvfb.tap(540, 960);
    manager.until(Duration::from_secs(60), |m| m == "WATCHDOG=1");
    // Once the UI thread stalls, a service manager waiting a whole timeout hears
    // nothing more, though the process (and its background runtime) lives on.
    let mut heard_last = Instant::now();
    loop {
        let silence = heard_last + watchdog * 2;
        match manager.next(silence) {
            Some(message) if message == "WATCHDOG=1" => heard_last = Instant::now(),
            Some(_) => {}
            None => break,
        }
        assert!(
            heard_last.elapsed() < Duration::from_secs(60),
            "the kiosk never stopped pinging"
        );
    }
    kiosk.assert_running("estation demo (stalled)");
    assert_ne!(xvfb.capture(), attract[0], "the visit had begun");

    // What systemd does on the missed watchdog (WatchdogSignal, then SIGKILL
    // with Restart=always): the process is killed and started again.
    drop(kiosk);
    let mut restarted = kiosk_under(
        &manager,
        &xvfb,
        watchdog,
        &["demo", "--no-card-reader", "--at", AT, "--data", data],
    );
    manager.until(Duration::from_secs(60), |m| m == "READY=1");
    assert!(
        xvfb.capture() == attract[0],
        "the restarted kiosk is not on the attract screen"
    );
    manager.until(watchdog, |m| m == "WATCHDOG=1");
    restarted.assert_running("estation demo (restarted)");
}

/// `estation run` against a central service that is away: READY once its frame
/// is up, and a STATUS that says what is wrong, for `systemctl status`. Its
/// configuration also says the picture is only 100 mm wide: 1,080 pixels there
/// make touch targets of 11.1 mm, which the status names too.
#[test]
fn a_kiosk_whose_central_service_is_away_says_so_in_its_status() {
    if !tools_present("a_kiosk_whose_central_service_is_away", &["Xvfb"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let token = dir.path().join("etc/token");
    std::fs::create_dir_all(token.parent().unwrap()).unwrap();
    std::fs::write(&token, "token-of-a-test-kiosk").unwrap();
    let config = dir.path().join("etc/kiosk.toml");
    std::fs::write(
        &config,
        format!(
            "kiosk_id = \"test-kiosk\"\ncentral_url = \"http://127.0.0.1:{port}\"\ntoken_file = \"{}\"\nprinter = \"file:{}\"\ndata_dir = \"{}\"\n\n[display]\nwidth_mm = 100\n",
            token.display(),
            dir.path().join("printed").display(),
            dir.path().join("state").display()
        ),
    )
    .unwrap();
    let xvfb = Xvfb::start(1080, 1920);
    let manager = Manager::bind(dir.path());
    let mut kiosk = kiosk_under(
        &manager,
        &xvfb,
        Duration::from_secs(10),
        &["run", "--config", config.to_str().unwrap()],
    );
    manager.until(Duration::from_secs(60), |m| m == "READY=1");
    // The first degraded line may only count the heartbeat waiting to go; once
    // the sender has failed, the line names the unreachable service.
    let status = manager.until(Duration::from_secs(60), |m| {
        m.starts_with("STATUS=degraded") && m.contains("central service unreachable since")
    });
    assert!(
        status.iter().all(|m| !m.starts_with("STATUS=serving")),
        "{status:?}"
    );
    let last = status.last().expect("a status line");
    assert!(
        last.contains("touch targets 11.1 mm (elderly mode 13.9 mm), under 15 mm"),
        "{last}"
    );
    kiosk.assert_running("estation run");
    // The outbox key is where the configuration says (beside the token), not in
    // the state folder with the data it seals.
    assert!(dir.path().join("etc/outbox.key").exists());
    assert!(!dir.path().join("state/outbox.key").exists());
}
