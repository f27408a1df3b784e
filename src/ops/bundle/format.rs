//! The configuration bundle: its fields, its TOML source and its validation.
//!
//! The payload is a superset of [`wire::ConfigBundle`]: every field the wire type
//! requires is here under the same name, so the central service and older
//! readers can still read the version and expiry. Fields added since default
//! when absent; unknown fields are refused, so a typo in a signed bundle is
//! caught on the kiosk instead of being silently ignored.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use estation_central::wire::{self, Locale, LocalizedText, OpeningHours};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::error::BundleError;

/// The schema this build writes and understands.
pub const SCHEMA_VERSION: u32 = 1;

/// Accepted range of the resident idle timeout, in seconds.
pub const IDLE_TIMEOUT_RANGE: std::ops::RangeInclusive<u32> = 15..=1800;
/// Paper widths the printer driver renders for (58 mm, 80 mm, A4-wide).
pub const PAPER_WIDTHS: [u32; 3] = [384, 576, 1728];

fn default_schema() -> u32 {
    SCHEMA_VERSION
}

/// A kiosk's central configuration, as signed by an administrator.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigBundle {
    /// Layout of this document; kiosks refuse schemas they do not know.
    #[serde(default = "default_schema")]
    pub schema: u32,
    /// Increases with every bundle; kiosks never go back to an older one.
    pub version: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
    /// After this a kiosk refuses to install the bundle.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// Name of the e-station shown on the attract screen and printed on paper.
    pub station_name: LocalizedText,
    /// Languages offered, in the order of the language buttons.
    pub locales: Vec<Locale>,
    pub default_locale: Locale,
    /// Seconds without a touch before a resident's visit is wiped.
    pub idle_timeout_secs: u32,
    /// Services switched off on this kiosk, by id.
    #[serde(default)]
    pub disabled_services: Vec<String>,
    /// PHC strings of the technicians' PIN hashes, the same list and order as
    /// [`ConfigBundle::technicians`] (kept for readers of the wire type).
    #[serde(default)]
    pub technician_pin_hashes: Vec<String>,
    /// Free-form further settings, by name.
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
    /// Opening hours that replace the catalogue's for this kiosk, by service id
    /// (a village point may close a service the hall keeps open).
    #[serde(default)]
    pub service_hours: BTreeMap<String, OpeningHours>,
    #[serde(default)]
    pub timeouts: TimeoutSettings,
    #[serde(default)]
    pub branding: Branding,
    #[serde(default)]
    pub printer: PrinterSettings,
    /// Who may enter maintenance mode, and with which PIN (argon2 hash).
    #[serde(default)]
    pub technicians: Vec<Technician>,
}

impl fmt::Debug for ConfigBundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // PIN hashes stay out of logs: a 6-digit PIN falls to an offline search.
        f.debug_struct("ConfigBundle")
            .field("schema", &self.schema)
            .field("version", &self.version)
            .field("expires_at", &self.expires_at)
            .field("locales", &self.locales)
            .field("idle_timeout_secs", &self.idle_timeout_secs)
            .field("disabled_services", &self.disabled_services)
            .field("technicians", &self.technicians.len())
            .finish_non_exhaustive()
    }
}

/// Timeouts besides the resident idle timeout.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TimeoutSettings {
    /// How long before the idle timeout the countdown shows.
    pub idle_warning_secs: u32,
    /// The goodbye screen returns to attract after this.
    pub goodbye_secs: u32,
    /// Maintenance mode without a touch for this long returns to attract.
    pub maintenance_idle_secs: u32,
    /// Elderly and voice modes multiply the idle timeout by this (reading large
    /// type and listening to a screen take longer).
    pub assisted_idle_factor: u32,
}

impl Default for TimeoutSettings {
    fn default() -> Self {
        Self {
            idle_warning_secs: 20,
            goodbye_secs: 8,
            maintenance_idle_secs: 300,
            assisted_idle_factor: 2,
        }
    }
}

/// Look of the kiosk.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Branding {
    /// Accent colour, `#RRGGBB`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accent_colour: Option<String>,
    /// Help line shown on error screens and printed on receipts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help_phone: Option<String>,
    /// Footer printed under every document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt_footer: Option<LocalizedText>,
}

/// Printer settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrinterSettings {
    /// Dots per line: 384 (58 mm), 576 (80 mm) or 1728 (A4-wide thermal).
    pub paper_width_dots: u32,
    /// Cut the paper after each document.
    pub cut: bool,
    /// Warn technicians (heartbeat, self-test) when the near-end sensor trips.
    pub warn_paper_near_end: bool,
}

impl Default for PrinterSettings {
    fn default() -> Self {
        Self {
            paper_width_dots: 576,
            cut: true,
            warn_paper_near_end: true,
        }
    }
}

/// A technician allowed into maintenance mode.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Technician {
    /// The id written on the technician's service card.
    pub id: String,
    /// PHC string of the argon2 hash of the PIN (`estation admin hash-pin`).
    pub pin_hash: String,
}

impl fmt::Debug for Technician {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Technician")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

fn schema_error(message: impl Into<String>) -> BundleError {
    BundleError::SchemaInvalid(message.into())
}

fn is_plain_id(text: &str) -> bool {
    (1..=64).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

impl ConfigBundle {
    /// Parses and validates a payload (the signed JSON text).
    pub fn from_payload(payload: &str) -> Result<ConfigBundle, BundleError> {
        // Read the schema number first, so a newer schema is reported as such
        // rather than as a pile of unknown fields.
        #[derive(Deserialize)]
        struct SchemaOnly {
            #[serde(default = "default_schema")]
            schema: u32,
        }
        let probe: SchemaOnly = serde_json::from_str(payload)
            .map_err(|e| schema_error(format!("not a JSON object with a schema: {e}")))?;
        if probe.schema != SCHEMA_VERSION {
            return Err(BundleError::UnsupportedSchema {
                found: probe.schema,
                supported: SCHEMA_VERSION,
            });
        }
        let bundle: ConfigBundle =
            serde_json::from_str(payload).map_err(|e| schema_error(e.to_string()))?;
        bundle.validate()?;
        Ok(bundle)
    }

    /// The exact text that is signed.
    pub fn to_payload(&self) -> Result<String, BundleError> {
        serde_json::to_string(self).map_err(|e| schema_error(e.to_string()))
    }

    /// Checks the rules serde cannot express.
    pub fn validate(&self) -> Result<(), BundleError> {
        if self.schema != SCHEMA_VERSION {
            return Err(BundleError::UnsupportedSchema {
                found: self.schema,
                supported: SCHEMA_VERSION,
            });
        }
        if self.version == 0 {
            return Err(schema_error("version must be at least 1"));
        }
        if self.expires_at <= self.issued_at {
            return Err(schema_error("expires_at must be after issued_at"));
        }
        if self.station_name.zh_cn.trim().is_empty() {
            return Err(schema_error("station_name needs a zh-CN text"));
        }
        if self.locales.is_empty() {
            return Err(schema_error("at least one locale is needed"));
        }
        let unique: BTreeSet<_> = self.locales.iter().map(|l| l.as_str()).collect();
        if unique.len() != self.locales.len() {
            return Err(schema_error("a locale is listed twice"));
        }
        if !self.locales.contains(&self.default_locale) {
            return Err(schema_error("default_locale must be one of locales"));
        }
        if !IDLE_TIMEOUT_RANGE.contains(&self.idle_timeout_secs) {
            return Err(schema_error(format!(
                "idle_timeout_secs must be within {}..={}",
                IDLE_TIMEOUT_RANGE.start(),
                IDLE_TIMEOUT_RANGE.end()
            )));
        }
        let t = &self.timeouts;
        if t.idle_warning_secs >= self.idle_timeout_secs {
            return Err(schema_error(
                "timeouts.idle_warning_secs must be shorter than idle_timeout_secs",
            ));
        }
        if !(1..=120).contains(&t.goodbye_secs) {
            return Err(schema_error("timeouts.goodbye_secs must be within 1..=120"));
        }
        if !(1..=5).contains(&t.assisted_idle_factor) {
            return Err(schema_error(
                "timeouts.assisted_idle_factor must be within 1..=5",
            ));
        }
        if !(30..=3600).contains(&t.maintenance_idle_secs) {
            return Err(schema_error(
                "timeouts.maintenance_idle_secs must be within 30..=3600",
            ));
        }
        for id in self
            .disabled_services
            .iter()
            .chain(self.service_hours.keys())
        {
            if !is_plain_id(id) {
                return Err(schema_error(format!("{id:?} is not a service id")));
            }
        }
        for (id, hours) in &self.service_hours {
            if let OpeningHours::Weekly { ranges } = hours {
                for range in ranges {
                    let valid = (1..=7).contains(&range.weekday)
                        && minutes(&range.opens)
                            .is_some_and(|o| minutes(&range.closes).is_some_and(|c| o < c));
                    if !valid {
                        return Err(schema_error(format!(
                            "service_hours.{id}: range {}-{} on weekday {} is not valid",
                            range.opens, range.closes, range.weekday
                        )));
                    }
                }
            }
        }
        if let Some(colour) = &self.branding.accent_colour {
            let hex = colour.strip_prefix('#').unwrap_or("");
            if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(schema_error("branding.accent_colour must be #RRGGBB"));
            }
        }
        if !PAPER_WIDTHS.contains(&self.printer.paper_width_dots) {
            return Err(schema_error(format!(
                "printer.paper_width_dots must be one of {PAPER_WIDTHS:?}"
            )));
        }
        let mut ids = BTreeSet::new();
        for technician in &self.technicians {
            if !is_plain_id(&technician.id) {
                return Err(schema_error(format!(
                    "{:?} is not a technician id",
                    technician.id
                )));
            }
            if !ids.insert(technician.id.as_str()) {
                return Err(schema_error(format!(
                    "technician {} is listed twice",
                    technician.id
                )));
            }
            check_pin_hash(&technician.pin_hash)
                .map_err(|m| schema_error(format!("technician {}: {m}", technician.id)))?;
        }
        let listed: Vec<&str> = self
            .technicians
            .iter()
            .map(|t| t.pin_hash.as_str())
            .collect();
        if self
            .technician_pin_hashes
            .iter()
            .map(String::as_str)
            .ne(listed)
        {
            return Err(schema_error(
                "technician_pin_hashes must repeat the technicians' hashes in order",
            ));
        }
        Ok(())
    }

    /// Whether the bundle may still be installed at `now`.
    pub fn is_expired_at(&self, now: OffsetDateTime) -> bool {
        now >= self.expires_at
    }

    /// Whether `service_id` may be offered at `at` (already in the centre's
    /// offset) as far as this kiosk's configuration goes; the catalogue's own
    /// hours and `open_now` apply on top.
    pub fn service_allowed_at(&self, service_id: &str, at: OffsetDateTime) -> bool {
        if self.disabled_services.iter().any(|s| s == service_id) {
            return false;
        }
        self.service_hours
            .get(service_id)
            .is_none_or(|hours| hours.is_open_at(at))
    }

    /// The resident session's timeouts under this bundle.
    pub fn session_timeouts(&self) -> crate::session::Timeouts {
        crate::session::Timeouts {
            idle: u64::from(self.idle_timeout_secs) * 1000,
            idle_warning: u64::from(self.timeouts.idle_warning_secs) * 1000,
            goodbye: u64::from(self.timeouts.goodbye_secs) * 1000,
            elderly_factor: u64::from(self.timeouts.assisted_idle_factor),
        }
    }

    /// The fields the central service's wire type knows.
    pub fn to_wire(&self) -> wire::ConfigBundle {
        wire::ConfigBundle {
            version: self.version,
            issued_at: self.issued_at,
            expires_at: self.expires_at,
            station_name: self.station_name.clone(),
            locales: self.locales.clone(),
            default_locale: self.default_locale,
            idle_timeout_secs: self.idle_timeout_secs,
            disabled_services: self.disabled_services.clone(),
            technician_pin_hashes: self.technician_pin_hashes.clone(),
            settings: self.settings.clone(),
        }
    }
}

fn minutes(hhmm: &str) -> Option<u16> {
    let (h, m) = hhmm.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60 || h == 24 && m == 0).then_some(h * 60 + m)
}

/// A PIN hash must be an argon2 PHC string with a salt.
fn check_pin_hash(phc: &str) -> Result<(), String> {
    let hash =
        argon2::PasswordHash::new(phc).map_err(|e| format!("pin_hash is not a PHC string: {e}"))?;
    if !matches!(hash.algorithm.as_str(), "argon2id" | "argon2i" | "argon2d") {
        return Err(format!("pin_hash uses {}, not argon2", hash.algorithm));
    }
    if hash.salt.is_none() || hash.hash.is_none() {
        return Err("pin_hash lacks a salt or a hash".into());
    }
    Ok(())
}

/// The administrator's TOML file that `estation admin sign` turns into a bundle
/// (see `assets/config/example.toml`). `issued_at` is the signing time and the
/// wire-compatible hash list is derived from `technicians`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleSource {
    #[serde(default = "default_schema")]
    pub schema: u32,
    pub version: u64,
    /// RFC 3339 time, e.g. "2026-06-30T23:59:59+08:00".
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    pub station_name: LocalizedText,
    pub locales: Vec<Locale>,
    pub default_locale: Locale,
    pub idle_timeout_secs: u32,
    #[serde(default)]
    pub disabled_services: Vec<String>,
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
    #[serde(default)]
    pub service_hours: BTreeMap<String, OpeningHours>,
    #[serde(default)]
    pub timeouts: TimeoutSettings,
    #[serde(default)]
    pub branding: Branding,
    #[serde(default)]
    pub printer: PrinterSettings,
    #[serde(default)]
    pub technicians: Vec<Technician>,
}

impl BundleSource {
    pub fn from_toml(text: &str) -> Result<BundleSource, BundleError> {
        toml::from_str(text).map_err(|e| BundleError::Source(e.to_string()))
    }

    /// The bundle as issued at `now`, validated.
    pub fn into_bundle(self, now: OffsetDateTime) -> Result<ConfigBundle, BundleError> {
        let issued_at = now.replace_nanosecond(0).unwrap_or(now);
        let bundle = ConfigBundle {
            schema: self.schema,
            version: self.version,
            issued_at,
            expires_at: self.expires_at,
            station_name: self.station_name,
            locales: self.locales,
            default_locale: self.default_locale,
            idle_timeout_secs: self.idle_timeout_secs,
            disabled_services: self.disabled_services,
            technician_pin_hashes: self
                .technicians
                .iter()
                .map(|t| t.pin_hash.clone())
                .collect(),
            settings: self.settings,
            service_hours: self.service_hours,
            timeouts: self.timeouts,
            branding: self.branding,
            printer: self.printer,
            technicians: self.technicians,
        };
        bundle.validate()?;
        if bundle.is_expired_at(now) {
            return Err(BundleError::Expired {
                expires_at: rfc3339(bundle.expires_at),
            });
        }
        Ok(bundle)
    }
}

/// A time as RFC 3339 text, for messages and stored state.
pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const EXAMPLE: &str = include_str!("../../../assets/config/example.toml");

    #[test]
    fn the_annotated_example_is_a_valid_source() {
        let bundle = BundleSource::from_toml(EXAMPLE)
            .unwrap()
            .into_bundle(datetime!(2025-06-01 00:00 UTC))
            .unwrap();
        assert!(bundle.version >= 1);
        assert_eq!(bundle.technicians.len(), bundle.technician_pin_hashes.len());
        let again = ConfigBundle::from_payload(&bundle.to_payload().unwrap()).unwrap();
        assert_eq!(again, bundle);
        // The central service's type reads the same payload.
        let wire: wire::ConfigBundle = serde_json::from_str(&bundle.to_payload().unwrap()).unwrap();
        assert_eq!(wire, bundle.to_wire());
    }

    #[test]
    fn service_hours_and_switches_decide_what_is_offered() {
        let mut bundle = BundleSource::from_toml(EXAMPLE)
            .unwrap()
            .into_bundle(datetime!(2025-06-01 00:00 UTC))
            .unwrap();
        bundle.disabled_services = vec!["ratings".into()];
        bundle.service_hours.insert(
            "household-proof".into(),
            OpeningHours::Weekly {
                ranges: vec![wire::WeeklyRange {
                    weekday: 1,
                    opens: "08:00".into(),
                    closes: "20:00".into(),
                }],
            },
        );
        // 2025-06-02 is a Monday.
        assert!(!bundle.service_allowed_at("ratings", datetime!(2025-06-02 10:00 +8)));
        assert!(bundle.service_allowed_at("household-proof", datetime!(2025-06-02 10:00 +8)));
        assert!(!bundle.service_allowed_at("household-proof", datetime!(2025-06-02 21:00 +8)));
        assert!(bundle.service_allowed_at("progress", datetime!(2025-06-02 23:00 +8)));
    }

    #[test]
    fn newer_schemas_and_broken_rules_are_refused() {
        let bundle = BundleSource::from_toml(EXAMPLE)
            .unwrap()
            .into_bundle(datetime!(2025-06-01 00:00 UTC))
            .unwrap();
        let mut value: serde_json::Value =
            serde_json::from_str(&bundle.to_payload().unwrap()).unwrap();
        value["schema"] = 2.into();
        assert!(matches!(
            ConfigBundle::from_payload(&value.to_string()),
            Err(BundleError::UnsupportedSchema { found: 2, .. })
        ));
        for (field, bad) in [
            ("idle_timeout_secs", serde_json::json!(1)),
            ("default_locale", serde_json::json!("fr-FR")),
            (
                "technician_pin_hashes",
                serde_json::json!(["$argon2id$nope"]),
            ),
            ("colour", serde_json::json!("red")),
            ("version", serde_json::json!(0)),
        ] {
            let mut value: serde_json::Value =
                serde_json::from_str(&bundle.to_payload().unwrap()).unwrap();
            value["schema"] = 1.into();
            value[field] = bad;
            assert!(
                matches!(
                    ConfigBundle::from_payload(&value.to_string()),
                    Err(BundleError::SchemaInvalid(_))
                ),
                "{field}"
            );
        }
    }

    #[test]
    fn debug_output_hides_pin_hashes() {
        let bundle = BundleSource::from_toml(EXAMPLE)
            .unwrap()
            .into_bundle(datetime!(2025-06-01 00:00 UTC))
            .unwrap();
        let shown = format!("{bundle:?} {:?}", bundle.technicians);
        assert!(!shown.contains("argon2"), "{shown}");
    }
}
