//! Start-up, memory and idle CPU of the kiosk, side by side with the usual
//! alternative (the same attract screen as a web page in a Chromium kiosk shell),
//! on one virtual display, in one run.
//!
//! ```sh
//! cargo bench --bench startup
//! # ESTATION_BENCH_RUNS=10 ESTATION_BENCH_IDLE_SECONDS=60 for longer runs
//! ```
//!
//! For each subject, each run starts it on a 1080x1920 Xvfb display and waits for
//! its first painted frame: the kiosk prints `first-frame-ms` from its rendering
//! notifier; the web page requests `/painted` after two animation frames. Memory is
//! read 3 s after the first frame, summed over the whole process tree, as PSS (each
//! shared page counted once) and as RSS. Idle CPU is the tree's user+system time
//! over a window on the attract screen, whose clock ticks every second. Chromium is
//! measured only when `/usr/bin/chromium` is installed.

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

/// Serves the web attract page and reports each `/painted` request.
struct PageServer {
    port: u16,
    painted: mpsc::Receiver<Instant>,
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
        PageServer { port, painted }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Subject {
    Estation,
    Chromium,
}

impl Subject {
    fn name(self) -> &'static str {
        match self {
            Subject::Estation => "estation",
            Subject::Chromium => "Chromium kiosk",
        }
    }
}

/// A started subject, its process group, and when its first frame was painted.
struct Started {
    child: Child,
    first_frame: Duration,
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
        Subject::Estation => {
            let mut c = Command::new(BIN);
            c.args(["demo", "--report-first-frame", "--no-card-reader"])
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
    let first_frame = match subject {
        Subject::Estation => {
            let stdout = child.stdout.take().expect("piped stdout");
            let mut lines = BufReader::new(stdout).lines();
            loop {
                match lines.next() {
                    Some(Ok(line)) if line.starts_with("first-frame-ms") => {
                        break spawned.elapsed();
                    }
                    Some(Ok(_)) => continue,
                    _ => panic!("estation ended before its first frame"),
                }
            }
        }
        Subject::Chromium => {
            let painted = server
                .painted
                .recv_timeout(Duration::from_secs(60))
                .expect("the page reports its first paint");
            painted.duration_since(spawned)
        }
    };
    Started {
        child,
        first_frame,
        _profile: profile,
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
    first_frame_ms: f64,
    memory: Memory,
    idle_cpu_percent: f64,
}

fn measure(
    subject: Subject,
    display: &str,
    server: &PageServer,
    runs: usize,
    idle: u64,
) -> Figures {
    // One unmeasured start warms the page cache, as on a kiosk that booted before.
    drop(start(subject, display, server));
    let times: Vec<f64> = (0..runs)
        .map(|_| start(subject, display, server).first_frame.as_secs_f64() * 1000.0)
        .collect();
    let running = start(subject, display, server);
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
        first_frame_ms: median(times),
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
    let xvfb = Xvfb::start();
    let server = PageServer::start();
    let mut subjects = vec![Subject::Estation];
    if std::path::Path::new(CHROMIUM).exists() {
        subjects.push(Subject::Chromium);
    } else {
        println!("({CHROMIUM} not installed: measuring estation only)");
    }
    let results: Vec<(Subject, Figures)> = subjects
        .iter()
        .map(|s| (*s, measure(*s, &xvfb.display, &server, runs, idle)))
        .collect();
    println!(
        "Xvfb 1080x1920, {runs} starts each (median), memory 3 s after the first frame, idle CPU over {idle} s"
    );
    println!(
        "{:16} {:>12} {:>10} {:>10} {:>13} {:>10} {:>12}",
        "subject", "first frame", "processes", "PSS MiB", "RSS MiB (sum)", "peak RSS", "idle CPU %"
    );
    for (subject, f) in &results {
        println!(
            "{:16} {:>9.0} ms {:>10} {:>10.1} {:>13.1} {:>10.1} {:>12.2}",
            subject.name(),
            f.first_frame_ms,
            f.memory.processes,
            f.memory.pss_mib,
            f.memory.rss_mib,
            f.memory.peak_rss_mib,
            f.idle_cpu_percent
        );
    }
    if let [(_, ours), (_, web)] = results.as_slice() {
        println!(
            "ratios estation/Chromium: first frame {:.2}, PSS {:.2}, idle CPU {:.2}",
            ours.first_frame_ms / web.first_frame_ms,
            ours.memory.pss_mib / web.memory.pss_mib,
            if web.idle_cpu_percent > 0.0 {
                ours.idle_cpu_percent / web.idle_cpu_percent
            } else {
                f64::NAN
            }
        );
    }
}
