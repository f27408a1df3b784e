//! The kiosk's local configuration file (TOML): who the kiosk is, where the central
//! service lives, which devices it drives. Central, signed configuration bundles
//! come on top of this.

use std::path::{Path, PathBuf};

use estation_drivers::scanner::{ScannerConfig, ScannerUri};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalConfig {
    /// This kiosk's id, as registered with the central service.
    pub kiosk_id: String,
    /// Base URL of the central service (`https://…`; `http://` only for loopback).
    pub central_url: String,
    /// A file holding the kiosk's bearer token (kept out of this file so the
    /// configuration can be shared and the token protected on its own).
    pub token_file: PathBuf,
    /// Printer URI: `tcp://HOST:9100`, `usb:/dev/usb/lp0`, `serial:/dev/ttyUSB0?baud=115200`, `file:DIR`.
    pub printer: String,
    /// Where the outbox and the print journal live.
    pub data_dir: PathBuf,
    /// The key that seals residents' data in the outbox (32 bytes, mode 0600,
    /// readable by the service account only). It must not sit in `data_dir`, or a
    /// copy of the state folder (a backup, a support bundle) would carry both the
    /// sealed data and its key. Default: `outbox.key` beside `token_file`.
    #[serde(default)]
    pub outbox_key_file: Option<PathBuf>,
    #[serde(default)]
    pub display: DisplayConfig,
    /// Public keys (`PREFIX.pub` from `estation admin keygen`) whose signed
    /// configuration bundles this kiosk accepts.
    #[serde(default)]
    pub config_keys: Vec<PathBuf>,
    /// The code scanner residents hold their phones under (docs/scanner.md).
    /// Without it, residents identify by card only.
    #[serde(default)]
    pub scanner: Option<ScannerSection>,
    /// `[retention]`: how many days delivered outbox entries and settled print
    /// jobs are kept (docs/reliability.md). Defaults: 7, 30 (rejected), 30.
    #[serde(default)]
    pub retention: crate::ops::retention::RetentionPolicy,
}

/// `[scanner]`: one to one onto the driver's `ScannerConfig`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScannerSection {
    /// `serial:/dev/ttyACM0?baud=9600&suffix=cr` or `hid:/dev/input/by-id/…-event-kbd`.
    pub uri: String,
    /// Longest code accepted, in bytes (16..=65536; default 1024).
    #[serde(default)]
    pub max_code_len: Option<usize>,
    /// A partial code is dropped after this long without a byte (20..=5000 ms;
    /// default 250).
    #[serde(default)]
    pub inter_char_timeout_ms: Option<u64>,
}

impl ScannerSection {
    pub fn scanner_config(&self) -> Result<ScannerConfig, String> {
        let uri: ScannerUri = self
            .uri
            .parse()
            .map_err(|e| format!("[scanner] uri: {e}"))?;
        let mut config = ScannerConfig::new(uri);
        if let Some(len) = self.max_code_len {
            if !(16..=65_536).contains(&len) {
                return Err("[scanner] max_code_len must be 16..=65536 bytes".into());
            }
            config.max_code_len = len;
        }
        if let Some(ms) = self.inter_char_timeout_ms {
            if !(20..=5_000).contains(&ms) {
                return Err("[scanner] inter_char_timeout_ms must be 20..=5000".into());
            }
            config.inter_char_timeout = std::time::Duration::from_millis(ms);
        }
        Ok(config)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisplayConfig {
    /// Cover the whole output (the default for a kiosk); `false` opens a window of
    /// `width` x `height` pixels instead (a development machine).
    #[serde(default = "default_fullscreen")]
    pub fullscreen: bool,
    #[serde(default = "default_width")]
    pub width: u32,
    #[serde(default = "default_height")]
    pub height: u32,
    /// How far the picture is turned clockwise to suit the panel's mounting: 0, 90,
    /// 180 or 270. The package's display set-up applies it to the console backend
    /// (`SLINT_KMS_ROTATION`), cage (`-r`) and touch input alike.
    #[serde(default)]
    pub rotation: u16,
    /// The width of the picture as residents see it (after rotation), in
    /// millimetres. With it the kiosk works out how large its touch targets
    /// come out on the glass, logs it, and reports a panel too small for its
    /// resolution (targets under 15 mm) in its status.
    #[serde(default)]
    pub width_mm: Option<f32>,
}

impl Default for DisplayConfig {
    fn default() -> Self {
        Self {
            fullscreen: default_fullscreen(),
            width: default_width(),
            height: default_height(),
            rotation: 0,
            width_mm: None,
        }
    }
}

impl DisplayConfig {
    pub fn window_size(&self) -> crate::ui_bridge::runtime::WindowSize {
        if self.fullscreen {
            crate::ui_bridge::runtime::WindowSize::FillOutput
        } else {
            crate::ui_bridge::runtime::WindowSize::Fixed {
                width: self.width,
                height: self.height,
            }
        }
    }
}

fn default_fullscreen() -> bool {
    true
}
fn default_width() -> u32 {
    1080
}
fn default_height() -> u32 {
    1920
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Parse {
        path: String,
        source: toml::de::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

impl LocalConfig {
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: shown.clone(),
            source,
        })?;
        let config: LocalConfig = toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: shown.clone(),
            source,
        })?;
        let invalid = |message: &str| ConfigError::Invalid {
            path: shown.clone(),
            message: message.to_owned(),
        };
        if config.kiosk_id.trim().is_empty() {
            return Err(invalid("kiosk_id is empty"));
        }
        if config.outbox_key_path().starts_with(&config.data_dir) {
            return Err(invalid(
                "outbox_key_file must not be inside data_dir (a copy of the state folder would carry the key with the data)",
            ));
        }
        if !crate::central_client::is_allowed_central_url(&config.central_url) {
            return Err(invalid(
                "central_url must be https:// (plain http only on loopback)",
            ));
        }
        if !(320..=8192).contains(&config.display.width)
            || !(320..=8192).contains(&config.display.height)
        {
            return Err(invalid("display size must be 320..8192 pixels per side"));
        }
        if ![0, 90, 180, 270].contains(&config.display.rotation) {
            return Err(invalid("display rotation must be 0, 90, 180 or 270"));
        }
        if let Some(mm) = config.display.width_mm
            && !(50.0..=3000.0).contains(&mm)
        {
            return Err(invalid(
                "display width_mm must be the picture's width in millimetres, 50..3000",
            ));
        }
        if let Some(scanner) = &config.scanner {
            scanner.scanner_config().map_err(|m| invalid(&m))?;
        }
        Ok(config)
    }

    /// Where the outbox key lives: `outbox_key_file`, or `outbox.key` beside the
    /// token file.
    pub fn outbox_key_path(&self) -> PathBuf {
        match &self.outbox_key_file {
            Some(path) => path.clone(),
            None => self
                .token_file
                .parent()
                .unwrap_or_else(|| Path::new(""))
                .join("outbox.key"),
        }
    }

    pub fn token(&self) -> Result<String, ConfigError> {
        let text =
            std::fs::read_to_string(&self.token_file).map_err(|source| ConfigError::Read {
                path: self.token_file.display().to_string(),
                source,
            })?;
        Ok(text.trim().to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<LocalConfig, ConfigError> {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("kiosk.toml");
        std::fs::write(&path, text).expect("write");
        LocalConfig::load(&path)
    }

    #[test]
    fn a_scanner_section_is_checked_when_the_file_is_loaded() {
        let base = "kiosk_id = \"k1\"\ncentral_url = \"https://c.example\"\nprinter = \"file:out\"\ntoken_file = \"/etc/estation/token\"\ndata_dir = \"/var/lib/estation\"\n";
        let config = load(base).expect("valid");
        assert!(config.scanner.is_none());
        let config = load(&format!(
            "{base}[scanner]\nuri = \"serial:/dev/ttyACM0?baud=115200&suffix=crlf\"\ninter_char_timeout_ms = 400\n"
        ))
        .expect("valid");
        let scanner = config
            .scanner
            .expect("section")
            .scanner_config()
            .expect("config");
        assert_eq!(
            scanner.uri.to_string(),
            "serial:/dev/ttyACM0?baud=115200&suffix=crlf"
        );
        assert_eq!(scanner.inter_char_timeout.as_millis(), 400);
        for bad in [
            "[scanner]\nuri = \"usb:/dev/x\"\n",
            "[scanner]\nuri = \"serial:/dev/ttyACM0?baud=7\"\n",
            "[scanner]\nuri = \"serial:/dev/ttyACM0\"\nmax_code_len = 3\n",
            "[scanner]\nuri = \"serial:/dev/ttyACM0\"\ninter_char_timeout_ms = 0\n",
            "[scanner]\nuri = \"serial:/dev/ttyACM0\"\ncolour = \"red\"\n",
        ] {
            assert!(load(&format!("{base}{bad}")).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_outbox_key_lives_outside_the_state_folder() {
        let base =
            "kiosk_id = \"k1\"\ncentral_url = \"https://c.example\"\nprinter = \"file:out\"\n";
        let config = load(&format!(
            "{base}token_file = \"/etc/estation/token\"\ndata_dir = \"/var/lib/estation\"\n"
        ))
        .expect("valid");
        assert_eq!(
            config.outbox_key_path(),
            Path::new("/etc/estation/outbox.key")
        );
        let config = load(&format!(
            "{base}token_file = \"/etc/estation/token\"\ndata_dir = \"/var/lib/estation\"\noutbox_key_file = \"/run/keys/outbox\"\n"
        ))
        .expect("valid");
        assert_eq!(config.outbox_key_path(), Path::new("/run/keys/outbox"));
        for inside in [
            "token_file = \"/var/lib/estation/token\"\ndata_dir = \"/var/lib/estation\"\n",
            "token_file = \"/etc/estation/token\"\ndata_dir = \"/var/lib/estation\"\noutbox_key_file = \"/var/lib/estation/k\"\n",
        ] {
            assert!(
                matches!(
                    load(&format!("{base}{inside}")),
                    Err(ConfigError::Invalid { .. })
                ),
                "{inside}"
            );
        }
    }

    #[test]
    fn loads_a_complete_file() {
        let config = load(
            "kiosk_id = \"k1\"\ncentral_url = \"https://central.example\"\ntoken_file = \"t\"\nprinter = \"tcp://10.0.0.5:9100\"\ndata_dir = \"/var/lib/estation\"\n[display]\nfullscreen = true\n",
        )
        .expect("valid");
        assert_eq!(config.kiosk_id, "k1");
        assert!(config.display.fullscreen);
        assert_eq!(config.display.width, 1080);
        assert_eq!(config.display.width_mm, None);
    }

    #[test]
    fn the_panels_width_in_millimetres_is_checked() {
        let base = "kiosk_id = \"k1\"\ncentral_url = \"https://c.example\"\nprinter = \"file:out\"\ntoken_file = \"/etc/estation/token\"\ndata_dir = \"/var/lib/estation\"\n[display]\n";
        let config = load(&format!("{base}width_mm = 268\n")).expect("valid");
        assert_eq!(config.display.width_mm, Some(268.0));
        for bad in [
            "width_mm = 0",
            "width_mm = -5",
            "width_mm = 26800",
            "width_mm = \"wide\"",
        ] {
            assert!(load(&format!("{base}{bad}\n")).is_err(), "{bad}");
        }
    }

    #[test]
    fn rejects_plain_http_to_another_host_and_unknown_keys() {
        let base =
            "kiosk_id = \"k1\"\ntoken_file = \"t\"\nprinter = \"file:out\"\ndata_dir = \"d\"\n";
        assert!(matches!(
            load(&format!("{base}central_url = \"http://central.example\"\n")),
            Err(ConfigError::Invalid { .. })
        ));
        assert!(load(&format!("{base}central_url = \"http://127.0.0.1:8080\"\n")).is_ok());
        assert!(load(&format!("{base}central_url = \"http://localhost:8080/\"\n")).is_ok());
        assert!(load(&format!("{base}central_url = \"http://[::1]:8080\"\n")).is_ok());
        // Look like loopback to a prefix check, but the host is elsewhere: the
        // bearer token would travel in clear.
        for url in [
            "http://127.0.0.1@central.example/",
            "http://127.example.com/",
            "http://localhost:@central.example/",
        ] {
            assert!(
                matches!(
                    load(&format!("{base}central_url = \"{url}\"\n")),
                    Err(ConfigError::Invalid { .. })
                ),
                "{url} accepted"
            );
            let client = crate::central_client::CentralClient::new(
                crate::central_client::ClientConfig::new(url, "k1", "token"),
            );
            assert!(client.is_err(), "the client accepts {url}");
        }
        assert!(matches!(
            load(&format!("{base}central_url = \"https://c\"\ncolour = 1\n")),
            Err(ConfigError::Parse { .. })
        ));
    }
}
