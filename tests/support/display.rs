//! Real display servers for tests of the kiosk's real window: Xvfb (X11) and the
//! cage Wayland kiosk compositor on wlroots' headless backend. Each can start the
//! kiosk with its real event loop, capture what the display shows, and (X11) tap.
//!
//! Captures are compared with the headless rendering of the same screen at the same
//! size: the real window uses the same software renderer, so they must be equal.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use image::RgbImage;

/// The pinned wall clock of every real-window test: the time on screen is the same
/// in the real window and in the headless reference.
pub const AT: &str = "2026-11-24T02:00:00+08:00";

/// How long a capture may take to show the expected picture. Only a guard against
/// a hang: captures are polled and the test moves on as soon as they match.
pub const SETTLE: Duration = Duration::from_secs(45);

/// True when every tool is on PATH. Without them the test is skipped loudly, except
/// under `CI=true`, where the test command installs them: a skip there would hide a
/// broken setup, so it fails instead.
pub fn tools_present(test: &str, tools: &[&str]) -> bool {
    let missing: Vec<&str> = tools
        .iter()
        .copied()
        .filter(|tool| which(tool).is_none())
        .collect();
    if missing.is_empty() {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{test}: {missing:?} not installed; scripts/setup.sh installs them");
    }
    eprintln!("SKIPPED {test}: {missing:?} not installed (scripts/setup.sh installs them)");
    false
}

pub fn which(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(tool))
        .find(|candidate| candidate.is_file())
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// A child process in a process group of its own, killed with its group on drop.
pub struct Group(pub Child);

impl Group {
    pub fn spawn(command: &mut Command) -> Self {
        command.process_group(0);
        Group(command.spawn().expect("spawning a display test process"))
    }

    /// Fails the test if the process has ended (a crash would otherwise look like
    /// a capture that never matches).
    pub fn assert_running(&mut self, what: &str) {
        if let Some(status) = self.0.try_wait().expect("waiting on a child") {
            panic!("{what} exited early: {status}");
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        let pid = self.0.id() as i32;
        // SAFETY: killpg on the group this struct created; errors mean it is gone.
        unsafe {
            libc::killpg(pid, libc::SIGKILL);
        }
        let _ = self.0.wait();
    }
}

/// The headless rendering of a demo walk: `estation demo --headless` runs `script`
/// at `width`x`height` and the PNGs it writes are returned in the order named.
pub fn headless_reference(
    dir: &Path,
    width: u32,
    height: u32,
    script: &str,
    shots: &[&str],
) -> Vec<RgbImage> {
    let script_path = dir.join("reference.script");
    std::fs::write(&script_path, script).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_estation"))
        .args(["demo", "--headless", "--no-card-reader", "--at", AT])
        .args([
            "--width",
            &width.to_string(),
            "--height",
            &height.to_string(),
        ])
        .arg("--data")
        .arg(dir.join("reference-data"))
        .arg("--script")
        .arg(&script_path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "headless reference failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    shots
        .iter()
        .map(|name| image::open(dir.join(name)).unwrap().to_rgb8())
        .collect()
}

/// An Xvfb server with one screen of the given size.
pub struct Xvfb {
    server: Group,
    pub display: String,
}

impl Xvfb {
    pub fn start(width: u32, height: u32) -> Self {
        let mut command = Command::new("Xvfb");
        command
            .args([
                "-displayfd",
                "1",
                "-nolisten",
                "tcp",
                "-noreset",
                "-screen",
                "0",
            ])
            .arg(format!("{width}x{height}x24"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut server = Group::spawn(&mut command);
        // Xvfb writes its display number once it accepts clients.
        let stdout = server.0.stdout.take().expect("Xvfb stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let number: u32 = line.trim().parse().expect("Xvfb display number");
        Xvfb {
            server,
            display: format!(":{number}"),
        }
    }

    /// Starts the windowed demo on this display, full-screen (no size given).
    pub fn start_kiosk(&self, data: &Path, extra: &[&str]) -> Group {
        let mut command = Command::new(env!("CARGO_BIN_EXE_estation"));
        command
            .args(["demo", "--no-card-reader", "--at", AT])
            .arg("--data")
            .arg(data)
            .args(extra)
            .env("DISPLAY", &self.display)
            .env_remove("WAYLAND_DISPLAY")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        Group::spawn(&mut command)
    }

    /// What the screen shows now, read with `xwd` from the root window.
    pub fn capture(&self) -> RgbImage {
        let output = Command::new("xwd")
            .args(["-root", "-silent", "-display", &self.display])
            .output()
            .unwrap();
        assert!(output.status.success(), "xwd failed");
        decode_xwd(&output.stdout)
    }

    /// A tap: the pointer moves there and clicks.
    pub fn tap(&self, x: u32, y: u32) {
        let status = Command::new("xdotool")
            .args(["mousemove", &x.to_string(), &y.to_string(), "click", "1"])
            .env("DISPLAY", &self.display)
            .status()
            .unwrap();
        assert!(status.success(), "xdotool failed");
    }

    pub fn assert_running(&mut self) {
        self.server.assert_running("Xvfb");
    }
}

/// The cage kiosk compositor on the headless wlroots backend, run as an
/// unprivileged user when the test runs as root (cage refuses root).
pub struct Cage {
    compositor: Group,
    runtime_dir: PathBuf,
    user: Option<&'static str>,
}

impl Cage {
    /// Starts cage with `rotations` quarter turns (`-r`, 0 to 3) and the windowed
    /// demo inside it, full-screen.
    pub fn start_kiosk(dir: &Path, rotations: usize, extra: &[&str]) -> Self {
        let user = is_root().then_some("nobody");
        let runtime_dir = dir.join("runtime");
        let data = dir.join("data");
        let home = dir.join("home");
        let bin_dir = dir.join("bin");
        for folder in [&runtime_dir, &data, &home, &bin_dir] {
            std::fs::create_dir_all(folder).unwrap();
        }
        // The unprivileged user may not reach the build folder: give it a copy.
        let binary = bin_dir.join("estation");
        std::fs::copy(env!("CARGO_BIN_EXE_estation"), &binary).unwrap();
        for (path, mode) in [(dir, 0o755), (&bin_dir, 0o755), (&binary, 0o755)] {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        std::fs::set_permissions(&runtime_dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        if user.is_some() {
            for folder in [&runtime_dir, &data, &home] {
                chown_to_nobody(folder);
            }
        }
        let vars = [
            ("XDG_RUNTIME_DIR", runtime_dir.as_path()),
            ("HOME", home.as_path()),
            ("WLR_BACKENDS", Path::new("headless")),
            ("WLR_RENDERER", Path::new("pixman")),
            ("WLR_LIBINPUT_NO_DEVICES", Path::new("1")),
        ];
        let mut command = as_user(user, "cage", &vars);
        for _ in 0..rotations {
            command.arg("-r");
        }
        command
            .arg("--")
            .arg(&binary)
            .args(["demo", "--no-card-reader", "--at", AT])
            .arg("--data")
            .arg(&data)
            .args(extra)
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let compositor = Group::spawn(&mut command);
        Cage {
            compositor,
            runtime_dir,
            user,
        }
    }

    /// What the output shows now, read with `grim`, or `None` while the
    /// compositor is not yet accepting clients.
    pub fn capture(&mut self) -> Option<RgbImage> {
        self.compositor.assert_running("cage");
        if !self.runtime_dir.join("wayland-0").exists() {
            return None;
        }
        let vars = [
            ("XDG_RUNTIME_DIR", self.runtime_dir.as_path()),
            ("WAYLAND_DISPLAY", Path::new("wayland-0")),
        ];
        let output = as_user(self.user, "grim", &vars)
            .arg("-")
            .stderr(Stdio::null())
            .output()
            .unwrap();
        if !output.status.success() {
            return None;
        }
        image::load_from_memory(&output.stdout)
            .ok()
            .map(|image| image.to_rgb8())
    }
}

/// `program` with `vars`, as `user` when given (through `runuser` and `env`, since
/// runuser resets HOME and would drop nothing else, but explicit is clearer).
fn as_user(user: Option<&str>, program: &str, vars: &[(&str, &Path)]) -> Command {
    match user {
        Some(user) => {
            let mut command = Command::new("runuser");
            command.args(["-u", user, "--", "env"]);
            for (key, value) in vars {
                command.arg(format!("{key}={}", value.display()));
            }
            command.arg(program);
            command
        }
        None => {
            let mut command = Command::new(program);
            for (key, value) in vars {
                command.env(key, value);
            }
            command
        }
    }
}

fn chown_to_nobody(path: &Path) {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    let (uid, gid) = passwd
        .lines()
        .find_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            (fields.first() == Some(&"nobody")).then(|| {
                (
                    fields[2].parse::<u32>().unwrap(),
                    fields[3].parse::<u32>().unwrap(),
                )
            })
        })
        .expect("a nobody user");
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
}

/// Polls `capture` until it equals `expected`; on timeout saves both pictures
/// and a difference mask next to the test's temporary files and fails.
pub fn wait_for_picture(
    what: &str,
    expected: &RgbImage,
    mut capture: impl FnMut() -> Option<RgbImage>,
) {
    let until = Instant::now() + SETTLE;
    let mut last = None;
    while Instant::now() < until {
        if let Some(picture) = capture() {
            if picture == *expected {
                return;
            }
            last = Some(picture);
        }
        // The poll interval of a condition with a deadline, not a synchronisation.
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("real-window");
    std::fs::create_dir_all(&out).unwrap();
    let slug: String = what
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    expected
        .save(out.join(format!("{slug}.expected.png")))
        .unwrap();
    let detail = match &last {
        Some(picture) => {
            picture
                .save(out.join(format!("{slug}.captured.png")))
                .unwrap();
            format!(
                "captured {}x{}, expected {}x{}; {} pixels differ",
                picture.width(),
                picture.height(),
                expected.width(),
                expected.height(),
                differing_pixels(picture, expected)
            )
        }
        None => "nothing could be captured".to_owned(),
    };
    panic!(
        "{what}: the display never showed the headless rendering ({detail}); pictures in {}",
        out.display()
    );
}

/// Pixels that differ (all of them when the sizes differ).
pub fn differing_pixels(a: &RgbImage, b: &RgbImage) -> usize {
    if a.dimensions() != b.dimensions() {
        return (a.width().max(b.width()) * a.height().max(b.height())) as usize;
    }
    a.pixels().zip(b.pixels()).filter(|(x, y)| x != y).count()
}

/// Decodes the ZPixmap dump `xwd` writes (TrueColor, 24 or 32 bits per pixel).
pub fn decode_xwd(bytes: &[u8]) -> RgbImage {
    let field = |index: usize| -> u32 {
        let at = index * 4;
        u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap())
    };
    let header_size = field(0) as usize;
    let (width, height) = (field(4), field(5));
    let byte_order_msb = field(7) == 1;
    let bits_per_pixel = field(11);
    let bytes_per_line = field(12) as usize;
    let (red_mask, green_mask, blue_mask) = (field(14), field(15), field(16));
    let colours = field(19) as usize;
    assert!(
        bits_per_pixel == 32 || bits_per_pixel == 24,
        "xwd: {bits_per_pixel} bits per pixel"
    );
    let data = &bytes[header_size + colours * 12..];
    let step = (bits_per_pixel / 8) as usize;
    let channel = |value: u32, mask: u32| -> u8 { ((value & mask) >> mask.trailing_zeros()) as u8 };
    RgbImage::from_fn(width, height, |x, y| {
        let at = y as usize * bytes_per_line + x as usize * step;
        let raw = &data[at..at + step];
        let mut value = 0u32;
        for (i, byte) in raw.iter().enumerate() {
            let shift = if byte_order_msb {
                (step - 1 - i) * 8
            } else {
                i * 8
            };
            value |= u32::from(*byte) << shift;
        }
        image::Rgb([
            channel(value, red_mask),
            channel(value, green_mask),
            channel(value, blue_mask),
        ])
    })
}
