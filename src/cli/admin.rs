//! `estation admin keygen|sign|verify|publish|hash-pin|fleet`: an
//! administrator's tools for signed configuration bundles.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Subcommand;
use estation_central::wire::{FleetStatus, PublishBundleRequest, PublishedBundle, SignedConfig};
use time::OffsetDateTime;

use crate::ops::bundle::format::rfc3339;
use crate::ops::bundle::signing::{KeyPair, public_key_path, read_public_key};
use crate::ops::bundle::store::read_bundle_file;
use crate::ops::bundle::{BundleSource, TrustAnchors, sign_bundle, verify_signed};

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Create a signing key: PREFIX (private, mode 0600) and PREFIX.pub.
    Keygen {
        #[arg(long)]
        out: PathBuf,
    },
    /// Sign a configuration file (TOML, see assets/config/example.toml).
    Sign {
        config: PathBuf,
        /// The private key (PREFIX from keygen).
        #[arg(long)]
        key: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
    /// Check a bundle as a kiosk would: signature, schema and expiry.
    /// Exits non-zero with the reason when it does not verify.
    Verify {
        bundle: PathBuf,
        /// A trusted public key (PREFIX.pub); repeat for several.
        #[arg(long = "key", required = true)]
        keys: Vec<PathBuf>,
    },
    /// Publish a bundle through the central service to the kiosks SELECTOR
    /// names ("binjiang-*,jindong-03", "*" for all).
    Publish {
        bundle: PathBuf,
        /// Base URL of the central service.
        #[arg(long)]
        central: String,
        #[arg(long)]
        kiosks: String,
        /// Administrator id (from `estation-central admin-add`).
        #[arg(long, default_value = "admin")]
        admin: String,
        /// File holding the administrator's token (else $ESTATION_ADMIN_TOKEN).
        #[arg(long)]
        token_file: Option<PathBuf>,
        /// Verify against this public key before publishing.
        #[arg(long)]
        key: Option<PathBuf>,
        /// Publish even if the selector matches no kiosk yet (kiosks enrolled later).
        #[arg(long)]
        allow_no_kiosk: bool,
    },
    /// Hash a technician PIN read from standard input, for the bundle's
    /// `[[technicians]]` entries.
    HashPin,
    /// Print the fleet's status (JSON) from the central service.
    Fleet {
        #[arg(long)]
        central: String,
        #[arg(long, default_value = "admin")]
        admin: String,
        #[arg(long)]
        token_file: Option<PathBuf>,
    },
}

pub fn run(command: AdminCommand) -> anyhow::Result<ExitCode> {
    match command {
        AdminCommand::Keygen { out } => keygen(&out),
        AdminCommand::Sign { config, key, out } => sign(&config, &key, &out),
        AdminCommand::Verify { bundle, keys } => verify(&bundle, &keys),
        AdminCommand::Publish {
            bundle,
            central,
            kiosks,
            admin,
            token_file,
            key,
            allow_no_kiosk,
        } => publish(
            &bundle,
            &central,
            &kiosks,
            Publisher {
                admin: &admin,
                token_file: token_file.as_deref(),
            },
            key.as_deref(),
            allow_no_kiosk,
        ),
        AdminCommand::HashPin => hash_pin(),
        AdminCommand::Fleet {
            central,
            admin,
            token_file,
        } => fleet(&central, &admin, token_file.as_deref()),
    }
}

fn keygen(prefix: &Path) -> anyhow::Result<ExitCode> {
    let pair = KeyPair::generate();
    let public = pair.write(prefix)?;
    println!(
        "key {} written: {} (private, keep it offline) and {} (give to kiosks)",
        pair.key_id(),
        prefix.display(),
        public.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn sign(config: &Path, key: &Path, out: &Path) -> anyhow::Result<ExitCode> {
    let text =
        std::fs::read_to_string(config).with_context(|| format!("reading {}", config.display()))?;
    let bundle = BundleSource::from_toml(&text)
        .and_then(|source| source.into_bundle(OffsetDateTime::now_utc()))
        .with_context(|| format!("{}", config.display()))?;
    let pair = KeyPair::read(key)?;
    let signed = sign_bundle(&bundle, &pair)?;
    let json = serde_json::to_vec_pretty(&signed)?;
    std::fs::write(out, json).with_context(|| format!("writing {}", out.display()))?;
    // Check the result with the public half, as a kiosk will.
    let public = public_key_path(key);
    if public.exists() {
        let trust = TrustAnchors::new(vec![read_public_key(&public)?]);
        verify_signed(&read_bundle_file(out)?, &trust)?;
    }
    println!(
        "bundle v{} signed by key {}, expires {}: {}",
        bundle.version,
        pair.key_id(),
        rfc3339(bundle.expires_at),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn verify(bundle: &Path, keys: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let trust = TrustAnchors::from_files(keys)?;
    let outcome = read_bundle_file(bundle).and_then(|bytes| verify_signed(&bytes, &trust));
    match outcome {
        Ok((signed, config)) if config.is_expired_at(OffsetDateTime::now_utc()) => {
            eprintln!(
                "{}: does not verify: the bundle expired at {} (key {})",
                bundle.display(),
                rfc3339(config.expires_at),
                signed.key_id
            );
            Ok(ExitCode::FAILURE)
        }
        Ok((signed, config)) => {
            println!(
                "{}: verified: version {}, signed by key {}, expires {}, {} technicians",
                bundle.display(),
                config.version,
                signed.key_id,
                rfc3339(config.expires_at),
                config.technicians.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            eprintln!("{}: does not verify: {error}", bundle.display());
            Ok(ExitCode::FAILURE)
        }
    }
}

fn admin_token(token_file: Option<&Path>) -> anyhow::Result<String> {
    let token = match token_file {
        Some(path) => {
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
        }
        None => std::env::var("ESTATION_ADMIN_TOKEN")
            .context("give --token-file or set ESTATION_ADMIN_TOKEN")?,
    };
    let token = token.trim().to_owned();
    if token.is_empty() {
        bail!("the administrator token is empty");
    }
    Ok(token)
}

fn http_client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(5))
        .timeout(std::time::Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("estation-admin/", env!("CARGO_PKG_VERSION")))
        .build()?)
}

async fn problem_text(response: reqwest::Response) -> String {
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    match serde_json::from_str::<estation_central::wire::Problem>(&body) {
        Ok(problem) => match &problem.detail {
            Some(detail) => format!("{problem}: {detail}"),
            None => problem.to_string(),
        },
        Err(_) => format!("HTTP {}", status.as_u16()),
    }
}

/// Who publishes.
struct Publisher<'a> {
    admin: &'a str,
    token_file: Option<&'a Path>,
}

fn publish(
    bundle: &Path,
    central: &str,
    selector: &str,
    Publisher { admin, token_file }: Publisher<'_>,
    key: Option<&Path>,
    allow_no_kiosk: bool,
) -> anyhow::Result<ExitCode> {
    estation_central::wire::validate_selector(selector).map_err(anyhow::Error::msg)?;
    let bytes = read_bundle_file(bundle)?;
    let signed: SignedConfig = match key {
        Some(key) => {
            let trust = TrustAnchors::new(vec![read_public_key(key)?]);
            verify_signed(&bytes, &trust)
                .with_context(|| format!("{} does not verify", bundle.display()))?
                .0
        }
        None => serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not a signed bundle", bundle.display()))?,
    };
    let token = admin_token(token_file)?;
    let url = format!("{}/v1/admin/bundles", central.trim_end_matches('/'));
    let request = PublishBundleRequest {
        selector: selector.to_owned(),
        bundle: signed,
        allow_no_kiosk,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let response = http_client()?
            .post(&url)
            .basic_auth(admin, Some(&token))
            .json(&request)
            .send()
            .await
            .with_context(|| format!("reaching {central}"))?;
        if !response.status().is_success() {
            eprintln!("publish refused: {}", problem_text(response).await);
            return Ok(ExitCode::FAILURE);
        }
        let published: PublishedBundle = response.json().await.context("reading the receipt")?;
        println!(
            "published v{} to {:?}: {} match{}",
            published.version,
            published.selector,
            match published.matched_kiosks.len() {
                1 => "1 kiosk".to_owned(),
                n => format!("{n} kiosks"),
            },
            if published.matched_kiosks.is_empty() {
                String::new()
            } else {
                format!(" ({})", published.matched_kiosks.join(", "))
            }
        );
        Ok(ExitCode::SUCCESS)
    })
}

fn hash_pin() -> anyhow::Result<ExitCode> {
    eprint!("PIN (digits, then Enter): ");
    let _ = std::io::stderr().flush();
    let mut line = zeroize::Zeroizing::new(String::new());
    std::io::stdin().lock().read_line(&mut line)?;
    let hash = crate::ops::maintenance::hash_pin(line.trim())?;
    println!("{hash}");
    Ok(ExitCode::SUCCESS)
}

fn fleet(central: &str, admin: &str, token_file: Option<&Path>) -> anyhow::Result<ExitCode> {
    let token = admin_token(token_file)?;
    let url = format!("{}/v1/admin/fleet", central.trim_end_matches('/'));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let response = http_client()?
            .get(&url)
            .basic_auth(admin, Some(&token))
            .send()
            .await
            .with_context(|| format!("reaching {central}"))?;
        if !response.status().is_success() {
            eprintln!("fleet status refused: {}", problem_text(response).await);
            return Ok(ExitCode::FAILURE);
        }
        let status: FleetStatus = response.json().await.context("reading the fleet status")?;
        println!("{}", serde_json::to_string_pretty(&status)?);
        Ok(ExitCode::SUCCESS)
    })
}
