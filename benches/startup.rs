//! Start-up, memory and idle CPU of `estation demo` under Xvfb, release build.
//!
//! ```sh
//! cargo bench --bench startup            # ESTATION_BENCH_RUNS=20 for more runs
//! ```
//!
//! For each run it starts the kiosk on a fresh virtual display, waits for the first
//! rendered frame (the kiosk prints `first-frame-ms` from inside its rendering
//! notifier), and reads the process's peak resident memory (`ru_maxrss` from
//! `wait4`). Then it starts one kiosk, lets it idle on the attract screen with its
//! ticking clock, and measures the CPU it uses over a window.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_estation");

struct Xvfb {
    child: Child,
    display: String,
}

impl Xvfb {
    fn start() -> Xvfb {
        // -displayfd makes Xvfb pick a free display and tell us which, when ready.
        let (reader, writer) = std::io::pipe().expect("pipe");
        let mut child = Command::new("Xvfb")
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
            .stderr(Stdio::null())
            .spawn_with_fd3(writer)
            .expect("Xvfb starts (scripts/setup.sh installs it)");
        let mut line = String::new();
        BufReader::new(reader)
            .read_line(&mut line)
            .expect("Xvfb reports its display");
        let number = line.trim();
        if number.is_empty() {
            let _ = child.kill();
            panic!("Xvfb did not report a display");
        }
        Xvfb {
            child,
            display: format!(":{number}"),
        }
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

trait SpawnWithFd3 {
    fn spawn_with_fd3(&mut self, fd: std::io::PipeWriter) -> std::io::Result<Child>;
}

impl SpawnWithFd3 for Command {
    fn spawn_with_fd3(&mut self, fd: std::io::PipeWriter) -> std::io::Result<Child> {
        use std::os::fd::IntoRawFd;
        use std::os::unix::process::CommandExt;
        let raw = fd.into_raw_fd();
        // SAFETY: dup2 and close are async-signal-safe; they run in the child between
        // fork and exec and touch only file descriptors.
        unsafe {
            self.pre_exec(move || {
                if raw == 3 {
                    // Already in place: only the close-on-exec flag must go.
                    if libc::fcntl(3, libc::F_SETFD, 0) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                } else if libc::dup2(raw, 3) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let result = self.spawn();
        // SAFETY: the parent's copy is no longer needed once the child has it.
        unsafe { libc::close(raw) };
        result
    }
}

struct Run {
    first_frame: Duration,
    peak_rss_kib: i64,
}

fn kiosk(display: &str, extra: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command
        .arg("demo")
        .args(extra)
        .env("DISPLAY", display)
        .env_remove("WAYLAND_DISPLAY")
        .env("ESTATION_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    command
}

fn wait_for_first_frame(child: &mut Child) -> Option<u64> {
    let stdout = child.stdout.take()?;
    for line in BufReader::new(stdout).lines() {
        let line = line.ok()?;
        if let Some(ms) = line.strip_prefix("first-frame-ms ") {
            return ms.trim().parse().ok();
        }
    }
    None
}

fn one_start(display: &str) -> Run {
    let started = Instant::now();
    let mut child = kiosk(display, &["--exit-after-first-frame"])
        .spawn()
        .expect("kiosk starts");
    let reported = wait_for_first_frame(&mut child);
    let first_frame = started.elapsed();
    assert!(reported.is_some(), "the kiosk never reported a frame");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain data; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4 failed");
    Run {
        first_frame,
        peak_rss_kib: usage.ru_maxrss,
    }
}

fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start after ") ".
    let rest = stat.rsplit_once(") ")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
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

fn main() {
    // `cargo bench` passes `--bench`; a filter argument selects nothing here.
    let runs: usize = std::env::var("ESTATION_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let idle_seconds: u64 = std::env::var("ESTATION_BENCH_IDLE_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let xvfb = Xvfb::start();

    // One unmeasured start warms the page cache, as on a kiosk that has booted before.
    let _ = one_start(&xvfb.display);
    let results: Vec<Run> = (0..runs).map(|_| one_start(&xvfb.display)).collect();
    let times: Vec<f64> = results
        .iter()
        .map(|r| r.first_frame.as_secs_f64() * 1000.0)
        .collect();
    let rss: Vec<f64> = results
        .iter()
        .map(|r| r.peak_rss_kib as f64 / 1024.0)
        .collect();
    println!("estation demo, release, Xvfb 1080x1920, {runs} runs");
    println!(
        "  start to first frame: median {:.0} ms (min {:.0}, max {:.0})",
        median(times.clone()),
        times.iter().cloned().fold(f64::INFINITY, f64::min),
        times.iter().cloned().fold(0.0, f64::max)
    );
    println!(
        "  peak RSS:             median {:.1} MiB (min {:.1}, max {:.1})",
        median(rss.clone()),
        rss.iter().cloned().fold(f64::INFINITY, f64::min),
        rss.iter().cloned().fold(0.0, f64::max)
    );

    let mut child = kiosk(&xvfb.display, &[]).spawn().expect("kiosk starts");
    // The first frame line only comes with --exit-after-first-frame, so give the
    // kiosk a moment to settle before the measured window starts.
    std::thread::sleep(Duration::from_secs(5));
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let before = cpu_ticks(child.id()).expect("kiosk is running");
    let window_start = Instant::now();
    std::thread::sleep(Duration::from_secs(idle_seconds));
    let after = cpu_ticks(child.id()).expect("kiosk is still running");
    let elapsed = window_start.elapsed().as_secs_f64();
    let _ = child.kill();
    let _ = child.wait();
    let percent = (after - before) as f64 / hz / elapsed * 100.0;
    println!("  idle CPU on attract:  {percent:.2} % of one core over {elapsed:.0} s");
}
