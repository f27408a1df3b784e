//! `estation card list|read`: the card reader from a technician's terminal.

use std::io::Write;
use std::process::ExitCode;

use clap::Subcommand;
use estation_drivers::card::{
    CardError, IdentityRecord, IdentitySource, PcscIdentitySource, Pin, list_readers,
};

#[derive(Subcommand, Debug)]
pub enum CardCommand {
    /// List the readers PC/SC knows and whether a card is in each.
    List,
    /// Read the inserted card and print the identity.
    Read {
        /// The reader to use (default: the first with a card).
        #[arg(long)]
        reader: Option<String>,
        /// Print JSON with stable field names instead of text.
        #[arg(long)]
        json: bool,
        /// Ask for the card's PIN on the terminal when the card requires one.
        #[arg(long)]
        pin: bool,
    },
}

pub fn run(command: CardCommand) -> anyhow::Result<ExitCode> {
    match command {
        CardCommand::List => list(),
        CardCommand::Read { reader, json, pin } => read(reader, json, pin),
    }
}

fn list() -> anyhow::Result<ExitCode> {
    let readers = match list_readers() {
        Ok(readers) => readers,
        Err(error) => return Ok(fail(&error)),
    };
    if readers.is_empty() {
        println!("no card reader connected");
        return Ok(ExitCode::SUCCESS);
    }
    let width = readers
        .iter()
        .map(|r| r.name.chars().count())
        .max()
        .unwrap_or(6)
        .max(6);
    println!("{:width$}  {:7}  ATR", "READER", "CARD");
    for reader in readers {
        let state = if reader.card_mute {
            "mute"
        } else if reader.card_present {
            "present"
        } else {
            "empty"
        };
        println!(
            "{:width$}  {state:7}  {}",
            reader.name,
            reader.atr_hex.as_deref().unwrap_or("-")
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn read(reader: Option<String>, json: bool, ask_pin: bool) -> anyhow::Result<ExitCode> {
    let reader = match reader {
        Some(name) => name,
        None => match list_readers() {
            Ok(readers) => match readers.into_iter().find(|r| r.card_present) {
                Some(r) => r.name,
                None => return Ok(fail(&CardError::NoCard("any reader".into()))),
            },
            Err(error) => return Ok(fail(&error)),
        },
    };
    let source = PcscIdentitySource::new();
    let mut result = source.read_identity(&reader, None);
    if ask_pin && matches!(result, Err(CardError::PinRequired { .. })) {
        let pin = prompt_pin()?;
        result = source.read_identity(&reader, Some(&pin));
    }
    let identity = match result {
        Ok(identity) => identity,
        Err(error) => return Ok(fail(&error)),
    };
    let record = IdentityRecord::from(&identity);
    if json {
        println!("{}", serde_json::to_string_pretty(&record)?);
    } else {
        let fields = record.fields();
        let width = fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 1;
        for (key, value) in fields {
            println!("{:width$} {value}", format!("{key}:"));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn prompt_pin() -> anyhow::Result<Pin> {
    eprint!("card PIN: ");
    std::io::stderr().flush()?;
    let mut line = zeroize::Zeroizing::new(String::new());
    std::io::stdin().read_line(&mut line)?;
    Ok(Pin::new(line.trim()))
}

fn fail(error: &CardError) -> ExitCode {
    eprintln!("error: {error}");
    if matches!(error, CardError::PinRequired { .. }) {
        eprintln!("hint: add --pin to type the card's PIN");
    }
    ExitCode::FAILURE
}
