//! Samples of what a long-running kiosk could leak: its resident memory, open
//! file descriptors, threads, and the size of its files (SQLite databases, their
//! write-ahead logs, anything else in its data folder). Linux `/proc/self`.

use std::path::{Path, PathBuf};

use serde::Serialize;

#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Sample {
    pub visits: u64,
    pub rss_kb: u64,
    pub fds: u64,
    pub threads: u64,
    /// Memory SQLite holds in this process (page caches, statements), the
    /// kiosk's and the embedded central service's connections together.
    pub sqlite_kb: u64,
    /// The kiosk's own files: outbox and print journal with their WALs.
    pub outbox_bytes: u64,
    pub outbox_wal_bytes: u64,
    pub journal_bytes: u64,
    pub journal_wal_bytes: u64,
    /// The reference central service's database (it keeps every record by design;
    /// reported, not bounded).
    pub central_bytes: u64,
    pub central_wal_bytes: u64,
    /// Files in the kiosk's data folder that look like logs (there must be none:
    /// the kiosk logs to stderr, which journald keeps and rotates).
    pub log_files: u64,
}

impl Sample {
    /// One line for a progress report.
    pub fn summary(&self) -> String {
        format!(
            "visit {}: rss {} KiB, {} fds, {} threads, sqlite {} KiB, outbox {}+{} B, \
             journal {}+{} B, central {}+{} B",
            self.visits,
            self.rss_kb,
            self.fds,
            self.threads,
            self.sqlite_kb,
            self.outbox_bytes,
            self.outbox_wal_bytes,
            self.journal_bytes,
            self.journal_wal_bytes,
            self.central_bytes,
            self.central_wal_bytes
        )
    }
}

pub struct Probe {
    data: PathBuf,
    central_db: PathBuf,
}

impl Probe {
    pub fn new(data: &Path, central_db: &Path) -> Self {
        Self {
            data: data.to_path_buf(),
            central_db: central_db.to_path_buf(),
        }
    }

    pub fn sample(&self, visits: u64) -> Sample {
        let size = |path: PathBuf| std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let wal = |path: &Path| {
            let mut name = path.as_os_str().to_owned();
            name.push("-wal");
            size(PathBuf::from(name))
        };
        let outbox = self.data.join("outbox.sqlite");
        let journal = self.data.join("print-journal.sqlite");
        Sample {
            visits,
            rss_kb: rss_kb(),
            fds: count_entries("/proc/self/fd"),
            threads: count_entries("/proc/self/task"),
            sqlite_kb: sqlite_kb(),
            outbox_bytes: size(outbox.clone()),
            outbox_wal_bytes: wal(&outbox),
            journal_bytes: size(journal.clone()),
            journal_wal_bytes: wal(&journal),
            central_bytes: size(self.central_db.clone()),
            central_wal_bytes: wal(&self.central_db),
            log_files: log_files(&self.data),
        }
    }
}

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn sqlite_kb() -> u64 {
    // SAFETY: reads SQLite's process-wide memory counter; takes no arguments and
    // is safe to call from any thread at any time.
    let bytes = unsafe { rusqlite::ffi::sqlite3_memory_used() };
    u64::try_from(bytes).unwrap_or(0) / 1024
}

fn count_entries(path: &str) -> u64 {
    std::fs::read_dir(path).map_or(0, |entries| entries.count() as u64)
}

fn log_files(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .filter(|entry| {
            let name = entry.file_name().to_string_lossy().to_ascii_lowercase();
            name.ends_with(".log") || name.contains(".log.")
        })
        .count() as u64
}

/// How far a sample may be from the one taken after warm-up before the run fails.
/// Threads: tokio's blocking pool (SQLite writes, card reads, printing) starts
/// threads on demand and lets them go after 10 s idle, so the count moves with
/// load; six above the baseline is room for that, not for a thread per visit.
/// Memory: the allocator keeps some slack and fonts and glyph caches fill as new
/// screens and locales appear, so RSS gets a fixed allowance, not a percentage.
/// The kiosk's SQLite files hold at most a retention window of rows, and the WAL
/// is checkpointed (truncated) on every prune; their bound is absolute.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Bounds {
    pub rss_growth_kb: u64,
    pub fds_growth: u64,
    pub threads_growth: u64,
    pub kiosk_file_bytes: u64,
    pub kiosk_wal_bytes: u64,
}

pub const BOUNDS: Bounds = Bounds {
    rss_growth_kb: 48 * 1024,
    fds_growth: 8,
    threads_growth: 6,
    kiosk_file_bytes: 16 * 1024 * 1024,
    kiosk_wal_bytes: 8 * 1024 * 1024,
};

/// What exceeds the bounds in `sample`, measured against `baseline`.
pub fn breaches(bounds: &Bounds, baseline: &Sample, sample: &Sample) -> Vec<String> {
    let mut out = Vec::new();
    let mut check = |what: &str, value: u64, limit: u64| {
        if value > limit {
            out.push(format!(
                "after {} visits: {what} is {value}, over the bound {limit}",
                sample.visits
            ));
        }
    };
    check(
        "rss_kb",
        sample.rss_kb,
        baseline.rss_kb + bounds.rss_growth_kb,
    );
    check("fds", sample.fds, baseline.fds + bounds.fds_growth);
    check(
        "threads",
        sample.threads,
        baseline.threads + bounds.threads_growth,
    );
    check("outbox_bytes", sample.outbox_bytes, bounds.kiosk_file_bytes);
    check(
        "journal_bytes",
        sample.journal_bytes,
        bounds.kiosk_file_bytes,
    );
    check(
        "outbox_wal_bytes",
        sample.outbox_wal_bytes,
        bounds.kiosk_wal_bytes,
    );
    check(
        "journal_wal_bytes",
        sample.journal_wal_bytes,
        bounds.kiosk_wal_bytes,
    );
    check("log_files", sample.log_files, 0);
    out
}
