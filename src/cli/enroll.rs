//! `estation enroll --central URL --code CODE`: joins the fleet in one command.
//!
//! The one-time code is exchanged over the API for the kiosk's id, token and
//! the public keys whose signed configuration it accepts. The token goes to its
//! own file (0600, owned by the service account); the keys to `config-keys/`
//! beside the configuration; `kiosk.toml` gets the id, the URL, the token file
//! and the keys, with every comment and every other setting kept as it was.
//! Each file is written whole and renamed into place, and the configuration is
//! checked before it replaces the old one, so a failure leaves the kiosk as it was.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;
use ed25519_dalek::pkcs8::EncodePublicKey;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;

use crate::central_client::wire::{Enrollment, ProblemCode};
use crate::central_client::{CentralError, enroll};
use crate::cli::config::LocalConfig;
use crate::ops::bundle::signing::key_id;

#[derive(Args, Debug)]
pub struct EnrollArgs {
    /// Base URL of the central service, e.g. https://central.example.gov.cn
    #[arg(long)]
    pub central: String,
    /// The one-time code from `estation-central enroll-code` or the fleet page.
    #[arg(long)]
    pub code: String,
    /// The configuration file to fill in (created if missing).
    #[arg(long, default_value = "/etc/estation/kiosk.toml")]
    pub config: PathBuf,
    /// The account the kiosk service runs as: it gets the token file. Ignored
    /// unless run as root.
    #[arg(long, default_value = "estation")]
    pub service_user: String,
}

/// Why enrolling did not happen, in the words the person at the kiosk needs.
#[derive(Debug, thiserror::Error)]
pub enum EnrollError {
    #[error(
        "this enrollment code has been used already: a code enrolls one kiosk once; ask for a new one (estation-central enroll-code --kiosk ID)"
    )]
    CodeUsed,
    #[error(
        "this enrollment code has expired; ask for a new one (estation-central enroll-code --kiosk ID --ttl 24h)"
    )]
    CodeExpired,
    #[error(
        "the central service does not know this enrollment code: check it for typos (letters and digits, the dashes do not matter)"
    )]
    CodeUnknown,
    #[error("the central service at {url} cannot be reached: {source}")]
    Unreachable { url: String, source: CentralError },
    #[error("the central service refused to enroll this kiosk: {0}")]
    Refused(CentralError),
    #[error("the central service's answer is not usable: {0}")]
    BadAnswer(String),
}

impl EnrollError {
    fn from_central(url: &str, error: CentralError) -> Self {
        match error.problem_code() {
            Some(ProblemCode::EnrollmentCodeUsed) => EnrollError::CodeUsed,
            Some(ProblemCode::EnrollmentCodeExpired) => EnrollError::CodeExpired,
            Some(ProblemCode::EnrollmentCodeUnknown) => EnrollError::CodeUnknown,
            _ if error.is_offline() => EnrollError::Unreachable {
                url: url.to_owned(),
                source: error,
            },
            _ => EnrollError::Refused(error),
        }
    }
}

pub fn run(args: EnrollArgs) -> anyhow::Result<ExitCode> {
    let central = args.central.trim_end_matches('/').to_owned();
    // Refuse a bad URL before the code is spent.
    if !crate::central_client::is_allowed_central_url(&central) {
        anyhow::bail!(
            "{central:?}: the central URL must be https:// (plain http only to a loopback address)"
        );
    }
    let existing = match std::fs::read_to_string(&args.config) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(e).with_context(|| format!("reading {}", args.config.display()));
        }
    };
    let mut document = match &existing {
        Some(text) => text
            .parse::<toml_edit::DocumentMut>()
            .with_context(|| format!("{} is not valid TOML", args.config.display()))?,
        None => fresh_configuration(),
    };
    let folder = args
        .config
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let token_file = document
        .get("token_file")
        .and_then(|v| v.as_str())
        .map_or_else(|| folder.join("token"), PathBuf::from);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let enrollment = runtime
        .block_on(enroll(&central, &args.code))
        .map_err(|e| EnrollError::from_central(&central, e))?;

    let owner = service_account(&args.service_user);
    let key_files = write_config_keys(&folder.join("config-keys"), &enrollment)?;
    write_private(&token_file, enrollment.token.as_bytes(), owner)
        .with_context(|| format!("writing the token to {}", token_file.display()))?;

    document["kiosk_id"] = toml_edit::value(enrollment.kiosk_id.as_str());
    document["central_url"] = toml_edit::value(central.as_str());
    document["token_file"] = toml_edit::value(token_file.display().to_string());
    let mut keys = toml_edit::Array::new();
    for file in &key_files {
        keys.push(file.display().to_string());
    }
    document["config_keys"] = toml_edit::value(keys);
    write_checked_config(&args.config, &document.to_string())?;

    println!(
        "enrolled as {}: {} (token in {}, {} trusted configuration key(s))",
        enrollment.kiosk_id,
        args.config.display(),
        token_file.display(),
        key_files.len()
    );
    println!("start it: systemctl restart estation   (check: estation selftest)");
    Ok(ExitCode::SUCCESS)
}

/// The settings a kiosk needs besides what enrolling fills in, for a machine
/// without the packaged example file.
fn fresh_configuration() -> toml_edit::DocumentMut {
    let mut document = toml_edit::DocumentMut::new();
    document["printer"] = toml_edit::value("usb:/dev/usb/lp0");
    document["data_dir"] = toml_edit::value("/var/lib/estation");
    document
}

/// Writes each trusted key as `config-keys/<key id>.pub` and answers the paths,
/// after checking that every key is what its id says.
fn write_config_keys(folder: &Path, enrollment: &Enrollment) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(folder).with_context(|| format!("creating {}", folder.display()))?;
    let mut paths = Vec::new();
    for info in &enrollment.config_keys {
        let key = info
            .verifying_key()
            .map_err(|e| EnrollError::BadAnswer(format!("key {:?}: {e}", info.key_id)))?;
        let id = key_id(&key);
        if id != info.key_id {
            return Err(EnrollError::BadAnswer(format!(
                "key {:?} does not match its id ({id})",
                info.key_id
            ))
            .into());
        }
        let pem = key
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| EnrollError::BadAnswer(e.to_string()))?;
        let path = folder.join(format!("{id}.pub"));
        write_replacing(&path, pem.as_bytes(), 0o644, None)
            .with_context(|| format!("writing {}", path.display()))?;
        paths.push(path);
    }
    if paths.is_empty() {
        eprintln!(
            "estation: the code named no administrator key: this kiosk runs on its built-in defaults and refuses every bundle until one is added to config_keys"
        );
    }
    Ok(paths)
}

/// Checks the new configuration as the kiosk will read it, then puts it in place.
fn write_checked_config(path: &Path, text: &str) -> anyhow::Result<()> {
    let folder = path.parent().unwrap_or_else(|| Path::new("."));
    std::fs::create_dir_all(folder).with_context(|| format!("creating {}", folder.display()))?;
    let mut candidate = tempfile::Builder::new()
        .prefix(".kiosk.toml.")
        .tempfile_in(folder)
        .with_context(|| format!("writing in {}", folder.display()))?;
    candidate.write_all(text.as_bytes())?;
    candidate.as_file().sync_all()?;
    LocalConfig::load(candidate.path())
        .map_err(|e| anyhow::anyhow!("the enrolled configuration would not load: {e}"))?;
    set_mode(candidate.path(), 0o644)?;
    candidate
        .persist(path)
        .with_context(|| format!("replacing {}", path.display()))?;
    Ok(())
}

/// The token: readable by the service account only.
fn write_private(path: &Path, bytes: &[u8], owner: Option<(u32, u32)>) -> anyhow::Result<()> {
    write_replacing(path, bytes, 0o600, owner)
}

/// Writes a file whole beside its final place, then renames it over the old one.
fn write_replacing(
    path: &Path,
    bytes: &[u8],
    mode: u32,
    owner: Option<(u32, u32)>,
) -> anyhow::Result<()> {
    let folder = path.parent().unwrap_or_else(|| Path::new("."));
    std::fs::create_dir_all(folder)?;
    // A fresh temporary file is 0600 from the start: the token is never readable
    // by others, not even for a moment.
    let mut file = tempfile::Builder::new()
        .prefix(".estation-enroll.")
        .tempfile_in(folder)?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    set_mode(file.path(), mode)?;
    #[cfg(unix)]
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::chown(file.path(), Some(uid), Some(gid))?;
    }
    #[cfg(not(unix))]
    let _ = owner;
    file.persist(path)?;
    Ok(())
}

fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
    }
    #[cfg(not(unix))]
    {
        let _ = (path, mode);
        Ok(())
    }
}

/// The service account's uid and gid, when running as root and the account
/// exists (the package creates it as a system user, in /etc/passwd).
fn service_account(name: &str) -> Option<(u32, u32)> {
    #[cfg(unix)]
    {
        if !rustix::process::geteuid().is_root() {
            return None;
        }
        let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
        let account = passwd_entry(&passwd, name);
        if account.is_none() {
            eprintln!(
                "estation: no account {name:?}; the token file stays owned by root (install the package first)"
            );
        }
        account
    }
    #[cfg(not(unix))]
    {
        let _ = name;
        None
    }
}

fn passwd_entry(passwd: &str, name: &str) -> Option<(u32, u32)> {
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        if fields.next()? != name {
            return None;
        }
        let _password = fields.next()?;
        let uid = fields.next()?.parse().ok()?;
        let gid = fields.next()?.parse().ok()?;
        Some((uid, gid))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_service_account_is_found_by_name_only() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\n\
                      estation-old:x:998:998::/nonexistent:/usr/sbin/nologin\n\
                      estation:x:999:996::/var/lib/estation:/usr/sbin/nologin\n\
                      broken:x:abc\n";
        assert_eq!(passwd_entry(passwd, "estation"), Some((999, 996)));
        assert_eq!(passwd_entry(passwd, "broken"), None);
        assert_eq!(passwd_entry(passwd, "nobody"), None);
    }
}
