//! A real PostgreSQL server for the tests, from the Debian packages
//! (`postgresql`, installed by scripts/setup.sh), started by the test process
//! itself: a throwaway cluster in the temporary folder with fsync off,
//! listening on a free loopback port, run as an unprivileged user when the
//! tests run as root (CI). Each test gets its own database in it.
//!
//! The cluster is copied from a template made once per machine with `initdb`
//! (under a file lock), which makes a start about half a second. The server
//! stops when the test process ends (the parent-death signal of its spawning
//! thread, which lives as long as the process); a later run removes the folders
//! of processes that are gone.

use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Superuser of the test clusters (trust authentication on loopback).
const USER: &str = "estation";

pub struct PgServer {
    pub port: u16,
}

fn bin_dir() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

/// (uid, gid) of the unprivileged account to run PostgreSQL as, when root.
fn run_as() -> Option<(u32, u32)> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    for name in ["postgres", "nobody"] {
        let Ok(cname) = std::ffi::CString::new(name) else {
            continue;
        };
        // SAFETY: getpwnam reads a NUL-terminated name; the record is copied at once.
        let entry = unsafe { libc::getpwnam(cname.as_ptr()) };
        if !entry.is_null() {
            // SAFETY: non-null pointer returned by getpwnam.
            let (uid, gid) = unsafe { ((*entry).pw_uid, (*entry).pw_gid) };
            return Some((uid, gid));
        }
    }
    panic!("running as root and no unprivileged account (postgres, nobody) to run PostgreSQL as");
}

fn command(program: &Path, user: Option<(u32, u32)>) -> Command {
    let mut command = Command::new(program);
    if let Some((uid, gid)) = user {
        command.uid(uid).gid(gid);
    }
    command.env_remove("PGDATA").env("LC_ALL", "C");
    command
}

fn chown(path: &Path, user: Option<(u32, u32)>) {
    if let Some((uid, gid)) = user {
        std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
    }
}

fn process_alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    unsafe { libc::kill(pid, 0) == 0 }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The server of this test process, started on first use; `None` (after a
/// loud "SKIPPED") where PostgreSQL is not installed, which under `CI=true`
/// fails instead: CI installs it.
pub fn server() -> Option<&'static PgServer> {
    static SERVER: OnceLock<Option<PgServer>> = OnceLock::new();
    SERVER.get_or_init(start).as_ref()
}

fn start() -> Option<PgServer> {
    let Some(bin) = bin_dir() else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("PostgreSQL is not installed (scripts/setup.sh installs it)");
        }
        eprintln!("SKIPPED: PostgreSQL is not installed (apt-get install postgresql)");
        return None;
    };
    let user = run_as();
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    let base = std::env::temp_dir().join(format!("estation-test-pg-{euid}"));
    std::fs::create_dir_all(&base).unwrap();
    std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o755)).unwrap();
    chown(&base, user);
    let version = bin
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|v| v.to_str())
        .unwrap_or("pg")
        .to_owned();
    let template = base.join(format!("template-{version}"));
    {
        let lock = std::fs::File::create(base.join(".lock")).unwrap();
        lock.lock().unwrap();
        // Folders of test processes that are gone.
        for entry in std::fs::read_dir(&base).unwrap().filter_map(Result::ok) {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(pid) = name
                .strip_prefix("run-")
                .and_then(|p| p.parse::<i32>().ok())
                && !process_alive(pid)
            {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        if !template.join("PG_VERSION").exists() {
            let partial = base.join(format!("template-{version}.partial"));
            let _ = std::fs::remove_dir_all(&partial);
            let status = command(&bin.join("initdb"), user)
                .args(["--no-sync", "--auth=trust", "--encoding=UTF8", "--locale=C"])
                .arg(format!("--username={USER}"))
                .arg("-D")
                .arg(&partial)
                .stdout(Stdio::null())
                .status()
                .expect("initdb");
            assert!(status.success(), "initdb failed");
            std::fs::rename(&partial, &template).unwrap();
        }
    }
    let data = base.join(format!("run-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let status = command(Path::new("/bin/cp"), user)
        .arg("-a")
        .arg(&template)
        .arg(&data)
        .status()
        .expect("cp");
    assert!(status.success(), "copying the template cluster failed");
    let port = free_port();
    let postgres = bin.join("postgres");
    let data_for_thread = data.clone();
    // The spawning thread lives as long as the process, so the parent-death
    // signal reaches the server when the process ends, not when a test ends.
    let (spawned, wait_spawned) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut server = command(&postgres, user);
        server
            .arg("-D")
            .arg(&data_for_thread)
            .args(["-c", &format!("port={port}")])
            .args(["-c", "listen_addresses=127.0.0.1"])
            .arg("-c")
            .arg(format!(
                "unix_socket_directories={}",
                data_for_thread.display()
            ))
            .args(["-c", "fsync=off", "-c", "synchronous_commit=off"])
            .args(["-c", "full_page_writes=off", "-c", "max_connections=300"])
            .args([
                "-c",
                "shared_buffers=32MB",
                "-c",
                "log_min_messages=warning",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: prctl is async-signal-safe; it only sets this child's death signal.
        unsafe {
            server.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGQUIT);
                Ok(())
            });
        }
        let mut child = server.spawn().expect("postgres");
        spawned.send(child.id()).unwrap();
        // Waits (and reaps it) for as long as the server runs.
        let _ = child.wait();
    });
    let _pid = wait_spawned.recv().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() && ready(port) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "PostgreSQL did not start on port {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(PgServer { port })
}

fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

fn ready(port: u16) -> bool {
    std::thread::scope(|s| {
        s.spawn(|| {
            block_on(async {
                tokio_postgres::connect(&url_of(port, "postgres"), tokio_postgres::NoTls)
                    .await
                    .is_ok()
            })
        })
        .join()
        .unwrap_or(false)
    })
}

fn url_of(port: u16, database: &str) -> String {
    format!("postgres://{USER}@127.0.0.1:{port}/{database}")
}

impl PgServer {
    /// A new, empty database; its URL.
    pub fn fresh_database(&self) -> String {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "test_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        self.execute("postgres", &format!("CREATE DATABASE {name}"));
        url_of(self.port, &name)
    }

    fn execute(&self, database: &str, sql: &str) {
        let url = url_of(self.port, database);
        run_blocking(move || async move {
            let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(connection);
            client.batch_execute(sql).await.unwrap();
        });
    }
}

/// Runs an async job on a runtime of its own thread, from sync test code.
pub fn run_blocking<F, Fut, T>(job: F) -> T
where
    F: FnOnce() -> Fut + Send,
    Fut: std::future::Future<Output = T>,
    T: Send,
{
    std::thread::scope(|s| s.spawn(|| block_on(job())).join().unwrap())
}

/// The single value of a query (a count, a text), on a database of the server.
pub fn query_value<T>(url: &str, sql: &str) -> T
where
    T: for<'a> tokio_postgres::types::FromSql<'a> + Send,
{
    let (url, sql) = (url.to_owned(), sql.to_owned());
    run_blocking(move || async move {
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        client.query_one(&sql, &[]).await.unwrap().get(0)
    })
}
