//! Start-up, memory and idle CPU of the kiosk, side by side with the usual
//! alternative (the same attract screen as a web page in a Chromium kiosk shell),
//! on one virtual display, in one run.
//!
//! ```sh
//! cargo bench --bench startup
//! # ESTATION_BENCH_RUNS=10 ESTATION_BENCH_IDLE_SECONDS=60 for longer runs
//! ```
//!
//! For each subject, each run starts it on a 1080x1920 Xvfb display (black before
//! anything is drawn, like a panel) and watches the display itself from the X
//! server's side, the same way for both subjects: every few milliseconds it reads
//! every 20th row of the screen. *First pixels* is when the screen first differs
//! from black; *whole screen* is when every sampled pixel outside the ticking clock
//! shows what it will show once settled (the clock is found as the pixels that
//! still change during the last second watched). The subjects' own reports are
//! printed beside them, for reference only: the kiosk's `first-frame-ms` from its
//! rendering notifier, the web page's `/painted` after two animation frames. Memory
//! is read 3 s after the first frame, summed over the whole process tree, as PSS
//! (each shared page counted once) and as RSS. Idle CPU is the tree's user+system
//! time over a window on the attract screen. Chromium is measured only when
//! `/usr/bin/chromium` is installed (`apt-get install chromium`).
//!
//! The kiosk is measured twice: `estation demo`, which carries the reference
//! central service in its own process, and `estation run`, the kiosk as a
//! kiosk runs it, against a central service this benchmark holds, as it holds
//! the web page's server: neither server is counted in its subject's memory.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_estation");
const PAGE: &str = include_str!("../assets/bench/attract.html");
const CHROMIUM: &str = "/usr/bin/chromium";

struct Xvfb {
    child: Child,
    display: String,
}

impl Xvfb {
    fn start() -> Xvfb {
        // -displayfd: Xvfb picks a free display and writes its number when ready.
        let (reader, writer) = std::io::pipe().expect("pipe");
        let fd = {
            use std::os::fd::IntoRawFd;
            writer.into_raw_fd()
        };
        let mut command = Command::new("Xvfb");
        command
            .args([
                "-displayfd",
                "3",
                "-screen",
                "0",
                "1080x1920x24",
                "-br",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: dup2/fcntl are async-signal-safe and touch only descriptors.
        unsafe {
            command.pre_exec(move || {
                if fd == 3 {
                    if libc::fcntl(3, libc::F_SETFD, 0) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                } else if libc::dup2(fd, 3) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command
            .spawn()
            .expect("Xvfb starts (scripts/setup.sh installs it)");
        // SAFETY: the parent's copy of the write end is no longer needed.
        unsafe { libc::close(fd) };
        let mut line = String::new();
        BufReader::new(reader)
            .read_line(&mut line)
            .expect("Xvfb reports its display");
        Xvfb {
            child,
            display: format!(":{}", line.trim()),
        }
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Serves the web attract page and reports each `/painted` request; holds the
/// central service of `estation run` too.
struct PageServer {
    port: u16,
    painted: mpsc::Receiver<Instant>,
    /// The other server of the run: the central service of `estation run`.
    central_for_run: CentralForRun,
}

impl PageServer {
    fn start() -> PageServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("address").port();
        let (tx, painted) = mpsc::channel();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut stream = stream;
                let mut request = [0u8; 2048];
                let n = stream.read(&mut request).unwrap_or(0);
                let head = String::from_utf8_lossy(&request[..n]);
                let response = if head.starts_with("GET /painted") {
                    let _ = tx.send(Instant::now());
                    "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n".to_owned()
                } else if head.starts_with("GET / ") {
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{PAGE}",
                        PAGE.len()
                    )
                } else {
                    "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        .to_owned()
                };
                let _ = stream.write_all(response.as_bytes());
            }
        });
        PageServer {
            port,
            painted,
            central_for_run: CentralForRun::start(),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Subject {
    /// `estation demo`: the kiosk with the reference central service inside.
    EstationDemo,
    /// `estation run`: the kiosk alone, its central service elsewhere.
    EstationRun,
    Chromium,
}

impl Subject {
    fn name(self) -> &'static str {
        match self {
            Subject::EstationDemo => "estation demo",
            Subject::EstationRun => "estation run",
            Subject::Chromium => "Chromium kiosk",
        }
    }
}

/// The central service `estation run` talks to, held by this process (as the
/// page server is for Chromium), and the kiosk's configuration for it.
struct CentralForRun {
    config: std::path::PathBuf,
    central: Option<estation_central::server::EmbeddedCentral>,
    runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

impl CentralForRun {
    fn start() -> CentralForRun {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let dir = tempfile::tempdir().expect("temp dir");
        let central = runtime
            .block_on(estation_central::server::EmbeddedCentral::start(
                &dir.path().join("central"),
            ))
            .expect("central service starts");
        let token = dir.path().join("etc/token");
        std::fs::create_dir_all(token.parent().expect("etc")).expect("etc folder");
        std::fs::write(&token, central.kiosk_token()).expect("token");
        let config = dir.path().join("etc/kiosk.toml");
        std::fs::write(
            &config,
            format!(
                "kiosk_id = \"{}\"\ncentral_url = \"{}\"\ntoken_file = \"{}\"\n\
                 printer = \"file:{}\"\ndata_dir = \"{}\"\n\n[display]\nfullscreen = true\n",
                central.kiosk_id(),
                central.base_url(),
                token.display(),
                dir.path().join("printed").display(),
                dir.path().join("state").display()
            ),
        )
        .expect("kiosk.toml");
        CentralForRun {
            config,
            central: Some(central),
            runtime,
            _dir: dir,
        }
    }
}

impl Drop for CentralForRun {
    fn drop(&mut self) {
        if let Some(central) = self.central.take() {
            let _ = self.runtime.block_on(central.shutdown());
        }
    }
}

/// A started subject, its process group, and when it was spawned.
struct Started {
    child: Child,
    spawned: Instant,
    /// When the subject itself says its first frame was painted.
    reported: mpsc::Receiver<Instant>,
    _profile: Option<tempfile::TempDir>,
}

impl Drop for Started {
    fn drop(&mut self) {
        // The whole process group: Chromium's helpers and the kiosk alike.
        unsafe { libc::kill(-(self.child.id() as i32), libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

fn start(subject: Subject, display: &str, server: &PageServer) -> Started {
    while server.painted.try_recv().is_ok() {}
    let mut profile = None;
    let mut command = match subject {
        Subject::EstationDemo => {
            let mut c = Command::new(BIN);
            c.args(["demo", "--report-first-frame", "--no-card-reader"])
                .env("ESTATION_LOG", "warn")
                .stdout(Stdio::piped());
            c
        }
        Subject::EstationRun => {
            let mut c = Command::new(BIN);
            c.arg("run")
                .arg("--config")
                .arg(&server.central_for_run.config)
                .env("ESTATION_LOG", "warn")
                .stdout(Stdio::piped());
            c
        }
        Subject::Chromium => {
            let dir = tempfile::tempdir().expect("profile dir");
            let mut c = Command::new(CHROMIUM);
            c.arg(format!("--user-data-dir={}", dir.path().display()))
                .args([
                    "--kiosk",
                    "--no-sandbox",
                    "--no-first-run",
                    "--no-default-browser-check",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--disable-quic",
                    "--disable-gpu",
                    "--window-position=0,0",
                    "--window-size=1080,1920",
                ])
                .arg(format!("http://127.0.0.1:{}/", server.port))
                .stdout(Stdio::null());
            profile = Some(dir);
            c
        }
    };
    command
        .env("DISPLAY", display)
        .env_remove("WAYLAND_DISPLAY")
        .stderr(Stdio::null())
        .process_group(0);
    let spawned = Instant::now();
    let mut child = command.spawn().expect("subject starts");
    let (tx, reported) = mpsc::channel();
    match subject {
        Subject::EstationDemo | Subject::EstationRun => {
            let stdout = child.stdout.take().expect("piped stdout");
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    match line {
                        Ok(line) if line.starts_with("first-frame-ms") => {
                            let _ = tx.send(Instant::now());
                        }
                        Ok(_) => {}
                        Err(_) => return,
                    }
                }
            });
        }
        // The page's own report arrives through the page server (see watch_start).
        Subject::Chromium => drop(tx),
    }
    Started {
        child,
        spawned,
        reported,
        _profile: profile,
    }
}

/// The display as the X server holds it: what a camera in front of the panel would
/// see, read the same way for both subjects.
struct DisplayWatch {
    connection: x11rb::rust_connection::RustConnection,
    root: u32,
    width: u16,
    height: u16,
}

/// Every ROW_STEP-th row, every COLUMN_STEP-th pixel of it, is sampled.
const ROW_STEP: u16 = 20;
const COLUMN_STEP: usize = 4;

impl DisplayWatch {
    fn connect(display: &str) -> DisplayWatch {
        use x11rb::connection::Connection as _;
        let (connection, screen) =
            x11rb::connect(Some(display)).expect("connect to the Xvfb display");
        let screen = &connection.setup().roots[screen];
        DisplayWatch {
            root: screen.root,
            width: screen.width_in_pixels,
            height: screen.height_in_pixels,
            connection,
        }
    }

    /// One sample of the screen (all rows requested at once, then read).
    fn sample(&self) -> Vec<u32> {
        use x11rb::protocol::xproto::{ConnectionExt as _, ImageFormat};
        let cookies: Vec<_> = (0..self.height)
            .step_by(ROW_STEP as usize)
            .map(|y| {
                self.connection
                    .get_image(
                        ImageFormat::Z_PIXMAP,
                        self.root,
                        0,
                        y as i16,
                        self.width,
                        1,
                        !0,
                    )
                    .expect("request a row")
            })
            .collect();
        let mut pixels = Vec::with_capacity(cookies.len() * self.width as usize / COLUMN_STEP);
        for cookie in cookies {
            let row = cookie.reply().expect("a row of the screen").data;
            pixels.extend(
                row.chunks_exact(4)
                    .step_by(COLUMN_STEP)
                    .map(|p| u32::from_le_bytes([p[0], p[1], p[2], 0])),
            );
        }
        pixels
    }
}

/// What the display showed, and when, from the spawn of a subject.
struct Watched {
    first_pixels: Duration,
    whole_screen: Duration,
    reported: Option<Duration>,
}

/// Starts `subject` and samples the display for `window`.
fn watch_start(
    subject: Subject,
    display: &DisplayWatch,
    display_name: &str,
    server: &PageServer,
    window: Duration,
) -> Watched {
    let blank = display.sample();
    assert!(
        blank.iter().all(|p| *p == 0),
        "the display is not black before the start"
    );
    let started = start(subject, display_name, server);
    let mut samples: Vec<(Duration, Vec<u32>)> = Vec::new();
    while started.spawned.elapsed() < window {
        let sample = display.sample();
        samples.push((started.spawned.elapsed(), sample));
        std::thread::sleep(Duration::from_millis(2));
    }
    let reported = started
        .reported
        .try_recv()
        .or_else(|_| server.painted.try_recv())
        .ok()
        .map(|at| at.duration_since(started.spawned));
    drop(started);
    // Wait until the window is gone, so the next start begins on black.
    while display.sample().iter().any(|p| *p != 0) {
        std::thread::sleep(Duration::from_millis(10));
    }
    let (_, settled) = samples.last().expect("at least one sample");
    let last_second = window.saturating_sub(Duration::from_secs(1));
    let live: Vec<bool> = (0..settled.len())
        .map(|i| {
            samples
                .iter()
                .filter(|(at, _)| *at >= last_second)
                .any(|(_, s)| s[i] != settled[i])
        })
        .collect();
    let first_pixels = samples
        .iter()
        .find(|(_, s)| s.iter().any(|p| *p != 0))
        .map(|(at, _)| *at)
        .unwrap_or_else(|| panic!("{} drew nothing in {window:?}", subject.name()));
    let whole_screen = samples
        .iter()
        .find(|(_, s)| {
            s.iter()
                .zip(settled)
                .zip(&live)
                .all(|((p, q), live)| *live || p == q)
        })
        .map(|(at, _)| *at)
        .expect("the last sample matches itself");
    Watched {
        first_pixels,
        whole_screen,
        reported,
    }
}

/// Every process in `root`'s process group.
fn group(root: u32) -> Vec<u32> {
    let mut pids = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return pids;
    };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if unsafe { libc::getpgid(pid as i32) } == root as i32 {
            pids.push(pid);
        }
    }
    pids
}

fn field_kib(text: &str, name: &str) -> u64 {
    text.lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

struct Memory {
    processes: usize,
    pss_mib: f64,
    rss_mib: f64,
    peak_rss_mib: f64,
}

fn memory(root: u32) -> Memory {
    let pids = group(root);
    let (mut pss, mut rss, mut peak) = (0u64, 0u64, 0u64);
    for pid in &pids {
        if let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")) {
            pss += field_kib(&text, "Pss:");
        }
        if let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            rss += field_kib(&text, "VmRSS:");
            peak += field_kib(&text, "VmHWM:");
        }
    }
    Memory {
        processes: pids.len(),
        pss_mib: pss as f64 / 1024.0,
        rss_mib: rss as f64 / 1024.0,
        peak_rss_mib: peak as f64 / 1024.0,
    }
}

fn cpu_ticks(root: u32) -> u64 {
    group(root)
        .iter()
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/stat")).ok())
        .filter_map(|stat| {
            let rest = stat.rsplit_once(") ")?.1.to_owned();
            let fields: Vec<&str> = rest.split_whitespace().collect();
            Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
        })
        .sum()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    }
}

struct Figures {
    first_pixels_ms: f64,
    whole_screen_ms: f64,
    reported_ms: f64,
    memory: Memory,
    idle_cpu_percent: f64,
}

fn measure(
    subject: Subject,
    display: &DisplayWatch,
    display_name: &str,
    server: &PageServer,
    runs: usize,
    idle: u64,
    window: Duration,
) -> Figures {
    // One unmeasured start warms the page cache, as on a kiosk that booted before.
    watch_start(subject, display, display_name, server, window);
    let watched: Vec<Watched> = (0..runs)
        .map(|_| watch_start(subject, display, display_name, server, window))
        .collect();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let running = start(subject, display_name, server);
    std::thread::sleep(Duration::from_secs(3));
    let root = running.child.id();
    let memory = memory(root);
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let before = cpu_ticks(root);
    let window = Instant::now();
    std::thread::sleep(Duration::from_secs(idle));
    let used = cpu_ticks(root).saturating_sub(before) as f64 / hz;
    let idle_cpu_percent = used / window.elapsed().as_secs_f64() * 100.0;
    Figures {
        first_pixels_ms: median(watched.iter().map(|w| ms(w.first_pixels)).collect()),
        whole_screen_ms: median(watched.iter().map(|w| ms(w.whole_screen)).collect()),
        reported_ms: median(
            watched
                .iter()
                .map(|w| w.reported.map_or(f64::NAN, ms))
                .collect(),
        ),
        memory,
        idle_cpu_percent,
    }
}

fn main() {
    let runs: usize = std::env::var("ESTATION_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let idle: u64 = std::env::var("ESTATION_BENCH_IDLE_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    // Long enough for Chromium to settle, with a last second to find the clock in.
    let window = Duration::from_secs(
        std::env::var("ESTATION_BENCH_WATCH_SECONDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(5),
    );
    let xvfb = Xvfb::start();
    let display = DisplayWatch::connect(&xvfb.display);
    let server = PageServer::start();
    let mut subjects = vec![Subject::EstationDemo, Subject::EstationRun];
    if std::path::Path::new(CHROMIUM).exists() {
        subjects.push(Subject::Chromium);
    } else {
        println!("({CHROMIUM} not installed: measuring estation only)");
    }
    let results: Vec<(Subject, Figures)> = subjects
        .iter()
        .map(|s| {
            let figures = measure(*s, &display, &xvfb.display, &server, runs, idle, window);
            (*s, figures)
        })
        .collect();
    println!(
        "Xvfb {}x{}, {runs} starts each (median), the display sampled from the X server; \
         memory 3 s after the start, idle CPU over {idle} s",
        display.width, display.height
    );
    println!(
        "{:16} {:>13} {:>13} {:>10} {:>10} {:>10} {:>14} {:>10} {:>11}",
        "subject",
        "first pixels",
        "whole screen",
        "(own say)",
        "processes",
        "PSS MiB",
        "RSS MiB (sum)",
        "peak RSS",
        "idle CPU %"
    );
    for (subject, f) in &results {
        println!(
            "{:16} {:>10.0} ms {:>10.0} ms {:>7.0} ms {:>10} {:>10.1} {:>14.1} {:>10.1} {:>11.2}",
            subject.name(),
            f.first_pixels_ms,
            f.whole_screen_ms,
            f.reported_ms,
            f.memory.processes,
            f.memory.pss_mib,
            f.memory.rss_mib,
            f.memory.peak_rss_mib,
            f.idle_cpu_percent
        );
    }
    if let Some((_, web)) = results.iter().find(|(s, _)| *s == Subject::Chromium) {
        for (subject, ours) in results.iter().filter(|(s, _)| *s != Subject::Chromium) {
            println!(
                "ratios {}/Chromium: first pixels {:.2}, whole screen {:.2}, \
                 whole screen to Chromium's first pixels {:.2}, PSS {:.2}, idle CPU {:.2}",
                subject.name(),
                ours.first_pixels_ms / web.first_pixels_ms,
                ours.whole_screen_ms / web.whole_screen_ms,
                ours.whole_screen_ms / web.first_pixels_ms,
                ours.memory.pss_mib / web.memory.pss_mib,
                if web.idle_cpu_percent > 0.0 {
                    ours.idle_cpu_percent / web.idle_cpu_percent
                } else {
                    f64::NAN
                }
            );
        }
    }
}
