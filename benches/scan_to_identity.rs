//! Scan to identity ready, over loopback: from the last byte of a phone code
//! reaching the scanner's port (a pseudo-terminal standing for a USB-CDC
//! scanner) to the resident's identity answered by the central service, as the
//! kiosk does it: the driver frames the code, the client posts it to
//! `POST /v1/identity/code` on the embedded reference service (SQLite), which
//! opens the sealed code, spends it and looks the resident up.
//!
//! `cargo bench --bench scan_to_identity` (prints medians; no assertions on time).

#[cfg(unix)]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    bench::run()
}

#[cfg(not(unix))]
fn main() {
    println!("scan_to_identity: SKIPPED, the pseudo-terminal scanner needs a Unix system");
}

#[cfg(unix)]
#[path = "../tests/support/pty.rs"]
mod pty;

#[cfg(unix)]
mod bench {
    use super::pty;
    use std::sync::mpsc::channel;
    use std::time::{Duration, Instant};

    use estation::central_client::{CentralClient, ClientConfig};
    use estation_central::seed::DEMO_RESIDENTS;
    use estation_central::server::{EmbeddedCentral, PublicRateLimit, ServerOptions};
    use estation_central::wire::IdentityCodeRequest;
    use estation_drivers::scanner::{ScanEvent, Scanner, ScannerConfig};

    const SCANS: usize = 200;
    const GUARD: Duration = Duration::from_secs(30);

    fn percentile(sorted: &[Duration], p: f64) -> Duration {
        let i = ((sorted.len() - 1) as f64 * p).round() as usize;
        sorted[i]
    }

    fn report(name: &str, mut times: Vec<Duration>) {
        times.sort();
        println!(
            "  {name:<28} median {:>8.2} ms   p90 {:>8.2} ms   min {:>8.2} ms   max {:>8.2} ms",
            percentile(&times, 0.5).as_secs_f64() * 1e3,
            percentile(&times, 0.9).as_secs_f64() * 1e3,
            times[0].as_secs_f64() * 1e3,
            times[times.len() - 1].as_secs_f64() * 1e3,
        );
    }

    pub fn run() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let runtime = tokio::runtime::Runtime::new()?;
        let unlimited = PublicRateLimit {
            per_minute: 1_000_000,
            burst: 1_000_000,
        };
        let central = runtime.block_on(EmbeddedCentral::start_with(
            &dir.path().join("central"),
            ServerOptions {
                identity_code_page: true,
                public_rate_limit: unlimited,
                identity_code_rate_limit: unlimited,
                ..ServerOptions::default()
            },
        ))?;
        let client = CentralClient::new(ClientConfig::new(
            central.base_url(),
            central.kiosk_id(),
            central.kiosk_token(),
        ))?;
        let http = reqwest::Client::new();

        // The scanner: a pty whose slave the driver opens.
        let mut pty = pty::Pty::open();
        let path = pty.path.clone();
        let (events, scanned) = channel();
        let scanner = Scanner::new(ScannerConfig::new(
            format!("serial:{}", path.display()).parse()?,
        ))
        .spawn(move |event| {
            let _ = events.send(event);
        })?;
        match scanned.recv_timeout(GUARD)? {
            ScanEvent::Connected { .. } => {}
            other => return Err(format!("scanner did not connect: {other:?}").into()),
        }

        let resident = &DEMO_RESIDENTS[0];
        let (mut framed, mut verified, mut total) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..SCANS {
            // A fresh code from the phone page, outside the clock.
            let html = runtime.block_on(async {
                http.post(format!("{}/m/id", central.base_url()))
                    .form(&[
                        ("card_number", resident.card_number),
                        ("id_number", resident.id_number),
                    ])
                    .send()
                    .await?
                    .text()
                    .await
            })?;
            let start = html
                .find("id=\"identity-code\">")
                .ok_or("no code on the page")?
                + 19;
            let end = start + html[start..].find("</code>").ok_or("no end of code")?;
            let code = &html[start..end];
            pty.send(code.as_bytes());

            let began = Instant::now();
            pty.send(b"\r");
            let code = match scanned.recv_timeout(GUARD)? {
                ScanEvent::Scanned(code) => code,
                other => return Err(format!("expected a code, got {other:?}").into()),
            };
            let read = began.elapsed();
            let identity = runtime.block_on(client.identify_by_code(&IdentityCodeRequest {
                code: code.as_str().to_owned(),
            }))?;
            let done = began.elapsed();
            if identity.card_number != resident.card_number {
                return Err("the code identified someone else".into());
            }
            framed.push(read);
            verified.push(done - read);
            total.push(done);
        }
        scanner.stop()?;
        println!(
            "scan_to_identity: {SCANS} scans, serial scanner (pty, suffix CR), reference service on loopback (SQLite)"
        );
        report("suffix → code framed", framed);
        report("code → identity (HTTP)", verified);
        report("suffix → identity ready", total);
        drop(central);
        Ok(())
    }
}
