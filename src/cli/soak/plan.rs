//! The seeded plan of a soak run: which resident comes, in which language and
//! mode, for which service, how the visit ends and which fault strikes it. The
//! same seed gives the same plan.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

pub const LOCALES: [&str; 3] = ["zh-CN", "zh-TW", "en-US"];
pub const PERIODS: [&str; 2] = ["last-12-months", "last-year"];

/// A resident service, as the runner drives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Social insurance certificate, for a chosen period.
    CertificateWithPeriod(&'static str),
    /// Household registration proof (no period).
    HouseholdProof,
    OriginForm,
    ProgressByNumber,
    ProgressByCard,
    AddressChange,
}

/// How the resident leaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    Rate(&'static str),
    SkipRating,
    /// Walks away from the document before printing: the idle timeout ends it.
    WalkAwayBeforePrint,
    /// Takes the paper and walks away from the rating screen.
    WalkAwayAtRating,
}

/// The faults the runner injects itself (the kiosk killed and restarted runs in
/// a child process, see `child.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FaultKind {
    NetworkCut,
    CentralError500,
    CentralSlow,
    CentralRestart,
    PaperOutMidJob,
    CoverOpen,
    CardPulled,
    /// pcscd stops and starts again between residents (only where the soak's
    /// card goes through pcscd).
    PcscdRestart,
}

impl FaultKind {
    pub const ALL: [FaultKind; 8] = [
        FaultKind::NetworkCut,
        FaultKind::CentralError500,
        FaultKind::CentralSlow,
        FaultKind::CentralRestart,
        FaultKind::PaperOutMidJob,
        FaultKind::CoverOpen,
        FaultKind::CardPulled,
        FaultKind::PcscdRestart,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FaultKind::NetworkCut => "network-cut",
            FaultKind::CentralError500 => "central-500",
            FaultKind::CentralSlow => "central-slow",
            FaultKind::CentralRestart => "central-restart",
            FaultKind::PaperOutMidJob => "paper-out-mid-job",
            FaultKind::CoverOpen => "cover-open",
            FaultKind::CardPulled => "card-pulled",
            FaultKind::PcscdRestart => "pcscd-restart",
        }
    }

    /// The service the fault strikes: the one where its effect reaches the resident.
    fn flow(self, rng: &mut StdRng) -> Flow {
        match self {
            FaultKind::NetworkCut | FaultKind::CentralRestart => Flow::AddressChange,
            FaultKind::CentralError500 | FaultKind::CardPulled | FaultKind::PcscdRestart => {
                Flow::HouseholdProof
            }
            FaultKind::CentralSlow => pick_flow(rng),
            FaultKind::PaperOutMidJob | FaultKind::CoverOpen => {
                if rng.gen_bool(0.5) {
                    Flow::HouseholdProof
                } else {
                    Flow::CertificateWithPeriod(PERIODS[rng.gen_range(0..PERIODS.len())])
                }
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Visit {
    pub index: u64,
    pub locale: &'static str,
    pub elderly: bool,
    /// Voice guidance on for the visit.
    pub voice: bool,
    pub flow: Flow,
    pub ending: Ending,
    pub fault: Option<FaultKind>,
}

/// Every `fault_every`-th visit carries a fault; the kinds come round in a
/// seeded order, so a run of `fault_every` times the number of kinds sees every
/// kind.
pub struct Planner {
    rng: StdRng,
    kinds: Vec<FaultKind>,
    faults: Vec<FaultKind>,
    fault_every: u64,
}

impl Planner {
    /// A planner that strikes with `kinds` (a soak without pcscd cannot
    /// restart it).
    pub fn new(seed: u64, fault_every: u64, kinds: &[FaultKind]) -> Self {
        Self {
            rng: StdRng::seed_from_u64(seed),
            kinds: kinds.to_vec(),
            faults: Vec::new(),
            fault_every: fault_every.max(1),
        }
    }

    pub fn next_visit(&mut self, index: u64) -> Visit {
        let fault = if index % self.fault_every == self.fault_every - 1 {
            if self.faults.is_empty() {
                self.faults = self.kinds.clone();
                self.faults.shuffle(&mut self.rng);
            }
            self.faults.pop()
        } else {
            None
        };
        let rng = &mut self.rng;
        let locale = LOCALES[rng.gen_range(0..LOCALES.len())];
        let elderly = rng.gen_bool(0.3);
        let flow = match fault {
            Some(kind) => kind.flow(rng),
            None => pick_flow(rng),
        };
        let ending = match fault {
            // A fault visit ends the way the fault leaves it; afterwards the
            // resident rates, so the rating ledger sees faults too.
            Some(_) => Ending::Rate("good"),
            None => match rng.gen_range(0..10) {
                0 => Ending::WalkAwayBeforePrint,
                1 => Ending::WalkAwayAtRating,
                2 | 3 => Ending::SkipRating,
                4 => Ending::Rate("bad"),
                5 => Ending::Rate("average"),
                _ => Ending::Rate("good"),
            },
        };
        let voice = rng.gen_bool(0.2);
        Visit {
            index,
            locale,
            elderly,
            voice,
            flow,
            ending,
            fault,
        }
    }
}

fn pick_flow(rng: &mut StdRng) -> Flow {
    match rng.gen_range(0..6) {
        0 => Flow::CertificateWithPeriod(PERIODS[rng.gen_range(0..PERIODS.len())]),
        1 => Flow::HouseholdProof,
        2 => Flow::OriginForm,
        3 => Flow::ProgressByNumber,
        4 => Flow::ProgressByCard,
        _ => Flow::AddressChange,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_plan() {
        let plan = |seed| {
            let mut planner = Planner::new(seed, 6, &FaultKind::ALL);
            (0..200).map(|i| planner.next_visit(i)).collect::<Vec<_>>()
        };
        assert_eq!(plan(7), plan(7));
        assert_ne!(plan(7), plan(8));
    }

    #[test]
    fn every_fault_comes_round() {
        let mut planner = Planner::new(1, 6, &FaultKind::ALL);
        let faults: std::collections::BTreeSet<_> = (0..6 * 8)
            .filter_map(|i| planner.next_visit(i).fault)
            .collect();
        assert_eq!(faults.len(), FaultKind::ALL.len());
        let without_pcscd: Vec<_> = FaultKind::ALL
            .into_iter()
            .filter(|k| *k != FaultKind::PcscdRestart)
            .collect();
        let mut planner = Planner::new(1, 6, &without_pcscd);
        let faults: std::collections::BTreeSet<_> = (0..6 * 7)
            .filter_map(|i| planner.next_visit(i).fault)
            .collect();
        assert_eq!(faults.len(), without_pcscd.len());
        assert!(!faults.contains(&FaultKind::PcscdRestart));
    }
}
