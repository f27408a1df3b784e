//! Scanner URIs, in the style of the printer URIs: `serial:/dev/ttyACM0?baud=9600&suffix=cr`
//! and `hid:/dev/input/by-id/usb-...-event-kbd?suffix=enter`.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// What ends a code on the wire. Scanners are configured (by their setup barcodes)
/// to append one of these after every code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Suffix {
    /// Carriage return (`\r`), the usual factory setting; a HID scanner's Enter key.
    Cr,
    /// Line feed (`\n`).
    Lf,
    /// CR then LF; a CR not followed by LF makes the code unreadable.
    CrLf,
    /// Any of CR, LF or CR LF (an LF right after a CR ends nothing more). The
    /// default for serial scanners: it reads every factory setting.
    Any,
    /// Horizontal tab (`\t`); a HID scanner's Tab key.
    Tab,
}

impl Suffix {
    /// The name used in serial URIs.
    fn serial_name(self) -> &'static str {
        match self {
            Suffix::Cr => "cr",
            Suffix::Lf => "lf",
            Suffix::CrLf => "crlf",
            Suffix::Any => "any",
            Suffix::Tab => "tab",
        }
    }
}

/// Where the scanner is and how it ends its codes, as written in configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScannerUri {
    /// `serial:/dev/ttyACM0?baud=9600&suffix=any`: an RS-232 scanner or a USB
    /// scanner in USB-CDC ("virtual COM port") mode. Baud defaults to 9600 (USB-CDC
    /// ignores it), suffix to `any`.
    Serial {
        path: String,
        baud: u32,
        suffix: Suffix,
    },
    /// `hid:/dev/input/by-id/usb-...-event-kbd?suffix=enter`: a USB scanner in
    /// keyboard-wedge mode, read from its own input device with an exclusive grab
    /// (Linux). Suffix is `enter` (the default, [`Suffix::Cr`]) or `tab`.
    Hid { path: PathBuf, suffix: Suffix },
}

impl ScannerUri {
    /// The device path, as reported in events and errors.
    pub fn device(&self) -> String {
        match self {
            ScannerUri::Serial { path, .. } => path.clone(),
            ScannerUri::Hid { path, .. } => path.display().to_string(),
        }
    }

    pub fn suffix(&self) -> Suffix {
        match self {
            ScannerUri::Serial { suffix, .. } | ScannerUri::Hid { suffix, .. } => *suffix,
        }
    }
}

/// Why a scanner URI was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScannerUriError {
    #[error("the scanner URI is empty")]
    Empty,
    #[error(
        "unknown scanner URI {uri:?}: use serial:/dev/ttyACM0?baud=9600 or hid:/dev/input/by-id/...-event-kbd"
    )]
    UnknownScheme { uri: String },
    #[error("scanner URI {uri:?} names no device path")]
    MissingPath { uri: String },
    #[error(
        "unknown option {option:?} in scanner URI {uri:?} (serial takes baud= and suffix=, hid takes suffix=)"
    )]
    UnknownOption { uri: String, option: String },
    #[error("option {option:?} is given twice in scanner URI {uri:?}")]
    DuplicateOption { uri: String, option: String },
    #[error("baud {value:?} in scanner URI {uri:?} is not a number from 1200 to 4000000")]
    InvalidBaud { uri: String, value: String },
    #[error(
        "suffix {value:?} in scanner URI {uri:?}: serial takes cr, lf, crlf, any or tab; hid takes enter or tab"
    )]
    InvalidSuffix { uri: String, value: String },
}

/// Splits `name=value&...`, refusing unknown and repeated names.
fn options<'a>(
    uri: &str,
    query: &'a str,
    known: &[&str],
) -> Result<Vec<(&'a str, &'a str)>, ScannerUriError> {
    let mut seen: Vec<(&str, &str)> = Vec::new();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if !known.contains(&name) {
            return Err(ScannerUriError::UnknownOption {
                uri: uri.to_owned(),
                option: pair.to_owned(),
            });
        }
        if seen.iter().any(|(seen_name, _)| *seen_name == name) {
            return Err(ScannerUriError::DuplicateOption {
                uri: uri.to_owned(),
                option: name.to_owned(),
            });
        }
        seen.push((name, value));
    }
    Ok(seen)
}

impl FromStr for ScannerUri {
    type Err = ScannerUriError;

    fn from_str(uri: &str) -> Result<Self, ScannerUriError> {
        let trimmed = uri.trim();
        if trimmed.is_empty() {
            return Err(ScannerUriError::Empty);
        }
        let missing_path = || ScannerUriError::MissingPath {
            uri: uri.to_owned(),
        };
        let invalid_suffix = |value: &str| ScannerUriError::InvalidSuffix {
            uri: uri.to_owned(),
            value: value.to_owned(),
        };
        if let Some(rest) = trimmed.strip_prefix("serial:") {
            let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
            if path.is_empty() {
                return Err(missing_path());
            }
            let mut baud = 9600;
            let mut suffix = Suffix::Any;
            for (name, value) in options(uri, query, &["baud", "suffix"])? {
                match name {
                    "baud" => {
                        baud = value
                            .parse::<u32>()
                            .ok()
                            .filter(|baud| (1200..=4_000_000).contains(baud))
                            .ok_or_else(|| ScannerUriError::InvalidBaud {
                                uri: uri.to_owned(),
                                value: value.to_owned(),
                            })?;
                    }
                    _ => {
                        suffix = match value.to_ascii_lowercase().as_str() {
                            "cr" => Suffix::Cr,
                            "lf" => Suffix::Lf,
                            "crlf" => Suffix::CrLf,
                            "any" => Suffix::Any,
                            "tab" => Suffix::Tab,
                            _ => return Err(invalid_suffix(value)),
                        };
                    }
                }
            }
            Ok(ScannerUri::Serial {
                path: path.to_owned(),
                baud,
                suffix,
            })
        } else if let Some(rest) = trimmed.strip_prefix("hid:") {
            let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
            if path.is_empty() {
                return Err(missing_path());
            }
            let mut suffix = Suffix::Cr;
            for (_, value) in options(uri, query, &["suffix"])? {
                suffix = match value.to_ascii_lowercase().as_str() {
                    "enter" => Suffix::Cr,
                    "tab" => Suffix::Tab,
                    _ => return Err(invalid_suffix(value)),
                };
            }
            Ok(ScannerUri::Hid {
                path: PathBuf::from(path),
                suffix,
            })
        } else {
            Err(ScannerUriError::UnknownScheme {
                uri: uri.to_owned(),
            })
        }
    }
}

impl fmt::Display for ScannerUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScannerUri::Serial { path, baud, suffix } => {
                write!(
                    f,
                    "serial:{path}?baud={baud}&suffix={}",
                    suffix.serial_name()
                )
            }
            ScannerUri::Hid { path, suffix } => {
                let suffix = if *suffix == Suffix::Tab {
                    "tab"
                } else {
                    "enter"
                };
                write!(f, "hid:{}?suffix={suffix}", path.display())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_parse_and_print_back() {
        for (text, expected) in [
            (
                "serial:/dev/ttyACM0?baud=9600",
                ScannerUri::Serial {
                    path: "/dev/ttyACM0".into(),
                    baud: 9600,
                    suffix: Suffix::Any,
                },
            ),
            (
                "serial:/dev/ttyUSB1",
                ScannerUri::Serial {
                    path: "/dev/ttyUSB1".into(),
                    baud: 9600,
                    suffix: Suffix::Any,
                },
            ),
            (
                " serial:/dev/ttyS0?suffix=CRLF&baud=115200 ",
                ScannerUri::Serial {
                    path: "/dev/ttyS0".into(),
                    baud: 115_200,
                    suffix: Suffix::CrLf,
                },
            ),
            (
                "serial:COM3?suffix=lf",
                ScannerUri::Serial {
                    path: "COM3".into(),
                    baud: 9600,
                    suffix: Suffix::Lf,
                },
            ),
            (
                "serial:/dev/ttyACM0?suffix=cr",
                ScannerUri::Serial {
                    path: "/dev/ttyACM0".into(),
                    baud: 9600,
                    suffix: Suffix::Cr,
                },
            ),
            (
                "serial:/dev/ttyACM0?suffix=tab",
                ScannerUri::Serial {
                    path: "/dev/ttyACM0".into(),
                    baud: 9600,
                    suffix: Suffix::Tab,
                },
            ),
            (
                "hid:/dev/input/by-id/usb-Newland_NLS-FR40-event-kbd",
                ScannerUri::Hid {
                    path: "/dev/input/by-id/usb-Newland_NLS-FR40-event-kbd".into(),
                    suffix: Suffix::Cr,
                },
            ),
            (
                "hid:/dev/input/event7?suffix=tab",
                ScannerUri::Hid {
                    path: "/dev/input/event7".into(),
                    suffix: Suffix::Tab,
                },
            ),
        ] {
            let parsed: ScannerUri = text.parse().unwrap();
            assert_eq!(parsed, expected, "{text}");
            assert_eq!(
                parsed.to_string().parse::<ScannerUri>().unwrap(),
                expected,
                "{text} printed as {parsed}"
            );
        }
    }

    #[test]
    fn bad_uris_say_why() {
        type Expected = fn(&ScannerUriError) -> bool;
        let cases: [(&str, Expected); 11] = [
            ("", |e| matches!(e, ScannerUriError::Empty)),
            ("   ", |e| matches!(e, ScannerUriError::Empty)),
            ("usb:/dev/usb/lp0", |e| {
                matches!(e, ScannerUriError::UnknownScheme { .. })
            }),
            ("/dev/ttyACM0", |e| {
                matches!(e, ScannerUriError::UnknownScheme { .. })
            }),
            ("serial:", |e| {
                matches!(e, ScannerUriError::MissingPath { .. })
            }),
            ("hid:?suffix=tab", |e| {
                matches!(e, ScannerUriError::MissingPath { .. })
            }),
            (
                "serial:/dev/ttyS0?baud=fast",
                |e| matches!(e, ScannerUriError::InvalidBaud { value, .. } if value == "fast"),
            ),
            ("serial:/dev/ttyS0?baud=300", |e| {
                matches!(e, ScannerUriError::InvalidBaud { .. })
            }),
            (
                "serial:/dev/ttyS0?parity=odd",
                |e| matches!(e, ScannerUriError::UnknownOption { option, .. } if option == "parity=odd"),
            ),
            (
                "serial:/dev/ttyS0?suffix=cr&suffix=lf",
                |e| matches!(e, ScannerUriError::DuplicateOption { option, .. } if option == "suffix"),
            ),
            (
                "hid:/dev/input/event3?suffix=crlf",
                |e| matches!(e, ScannerUriError::InvalidSuffix { value, .. } if value == "crlf"),
            ),
        ];
        for (text, expected) in cases {
            let error = text.parse::<ScannerUri>().unwrap_err();
            assert!(expected(&error), "{text:?}: {error:?}");
        }
    }
}
