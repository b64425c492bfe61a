//! Blind structures: rounds (blinds, ante, duration, optional game) and breaks (with an
//! optional chip-up), as many as the event needs.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Level {
    Round {
        small_blind: u64,
        big_blind: u64,
        /// Per player, or paid by the big blind alone when `big_blind_ante` is set.
        #[serde(default)]
        ante: u64,
        #[serde(default)]
        big_blind_ante: bool,
        duration_secs: u32,
        /// For mixed games, e.g. "Razz" in a HORSE rotation.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        game: Option<String>,
    },
    Break {
        duration_secs: u32,
        /// Denominations coloured up (removed from play) during this break.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        chip_up: Vec<u64>,
    },
}

impl Level {
    pub fn duration_ms(&self) -> i64 {
        let secs = match self {
            Level::Round { duration_secs, .. } | Level::Break { duration_secs, .. } => {
                *duration_secs
            }
        };
        i64::from(secs) * 1000
    }

    pub fn is_break(&self) -> bool {
        matches!(self, Level::Break { .. })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Structure {
    pub levels: Vec<Level>,
}

pub const MAX_LEVELS: usize = 500;
const MAX_DURATION_SECS: u32 = 24 * 3600;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StructureError {
    #[error("a structure has 1 to {MAX_LEVELS} levels")]
    Count,
    #[error("a structure starts with a round, not a break")]
    StartsWithBreak,
    #[error("level {0}: a level lasts from 1 second to 24 hours")]
    Duration(usize),
    #[error("level {0}: the big blind must be positive and at least the small blind")]
    Blinds(usize),
    #[error("level {0}: a big-blind ante needs an ante amount")]
    BigBlindAnte(usize),
    #[error("level {0}: a game name is 1 to 40 characters")]
    Game(usize),
    #[error("level {0}: a chip-up names at most 20 denominations")]
    ChipUp(usize),
}

impl Structure {
    pub fn validate(&self) -> Result<(), StructureError> {
        if self.levels.is_empty() || self.levels.len() > MAX_LEVELS {
            return Err(StructureError::Count);
        }
        if self.levels[0].is_break() {
            return Err(StructureError::StartsWithBreak);
        }
        for (i, level) in self.levels.iter().enumerate() {
            let n = i + 1;
            if !(1..=i64::from(MAX_DURATION_SECS) * 1000).contains(&level.duration_ms()) {
                return Err(StructureError::Duration(n));
            }
            if let Level::Break { chip_up, .. } = level
                && chip_up.len() > 20
            {
                return Err(StructureError::ChipUp(n));
            }
            if let Level::Round {
                small_blind,
                big_blind,
                ante,
                big_blind_ante,
                game,
                ..
            } = level
            {
                if *big_blind == 0 || small_blind > big_blind {
                    return Err(StructureError::Blinds(n));
                }
                if *big_blind_ante && *ante == 0 {
                    return Err(StructureError::BigBlindAnte(n));
                }
                if game
                    .as_ref()
                    .is_some_and(|g| g.trim().is_empty() || g.chars().count() > 40)
                {
                    return Err(StructureError::Game(n));
                }
            }
        }
        Ok(())
    }

    /// The level index after `index`: the last level repeats when the structure runs out.
    pub fn next(&self, index: usize) -> usize {
        (index + 1).min(self.levels.len() - 1)
    }

    pub fn level(&self, index: usize) -> &Level {
        &self.levels[index.min(self.levels.len() - 1)]
    }

    /// The first amount (level index, amount) that cannot be paid with the chips in
    /// play: every blind and ante must be a whole number of the smallest chip still in
    /// play, after the chip-ups of earlier breaks.
    pub fn first_unpayable(&self, chips: &[u64]) -> Option<(usize, u64)> {
        let mut in_play: Vec<u64> = chips.to_vec();
        in_play.sort_unstable();
        for (i, level) in self.levels.iter().enumerate() {
            match level {
                Level::Round {
                    small_blind,
                    big_blind,
                    ante,
                    ..
                } => {
                    let smallest = *in_play.first()?;
                    if let Some(v) = [small_blind, big_blind, ante]
                        .into_iter()
                        .find(|v| *v % smallest != 0)
                    {
                        return Some((i, *v));
                    }
                }
                Level::Break { chip_up, .. } => in_play.retain(|c| !chip_up.contains(c)),
            }
        }
        None
    }

    /// The 1-based number of the round at `index` (breaks have none), as shown on the wall.
    pub fn round_number(&self, index: usize) -> Option<usize> {
        if self.level(index).is_break() {
            return None;
        }
        Some(
            self.levels[..=index.min(self.levels.len() - 1)]
                .iter()
                .filter(|l| !l.is_break())
                .count(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn round(sb: u64, bb: u64, mins: u32) -> Level {
        Level::Round {
            small_blind: sb,
            big_blind: bb,
            ante: 0,
            big_blind_ante: false,
            duration_secs: mins * 60,
            game: None,
        }
    }

    #[test]
    fn validation_names_the_level() {
        let ok = Structure {
            levels: vec![
                round(25, 50, 20),
                Level::Break {
                    duration_secs: 600,
                    chip_up: vec![25],
                },
            ],
        };
        assert_eq!(ok.validate(), Ok(()));
        let bad = Structure {
            levels: vec![round(25, 50, 20), round(100, 50, 20)],
        };
        assert_eq!(bad.validate(), Err(StructureError::Blinds(2)));
        let starts_with_break = Structure {
            levels: vec![Level::Break {
                duration_secs: 60,
                chip_up: vec![],
            }],
        };
        assert_eq!(
            starts_with_break.validate(),
            Err(StructureError::StartsWithBreak)
        );
        let zero = Structure {
            levels: vec![round(25, 50, 0)],
        };
        assert_eq!(zero.validate(), Err(StructureError::Duration(1)));
    }

    #[test]
    fn unpayable_amounts_are_found_after_chip_ups() {
        let s = Structure {
            levels: vec![
                round(25, 50, 20),
                Level::Break {
                    duration_secs: 600,
                    chip_up: vec![25],
                },
                round(50, 100, 20),
                round(150, 300, 20),
            ],
        };
        assert_eq!(s.first_unpayable(&[25, 100]), Some((2, 50)));
        assert_eq!(s.first_unpayable(&[25, 50, 100]), None);
        assert_eq!(s.first_unpayable(&[100]), Some((0, 25)));
    }

    #[test]
    fn the_last_level_repeats_and_rounds_are_numbered() {
        let s = Structure {
            levels: vec![
                round(25, 50, 20),
                Level::Break {
                    duration_secs: 600,
                    chip_up: vec![],
                },
                round(50, 100, 20),
            ],
        };
        assert_eq!(s.next(0), 1);
        assert_eq!(s.next(2), 2);
        assert_eq!(s.round_number(0), Some(1));
        assert_eq!(s.round_number(1), None);
        assert_eq!(s.round_number(2), Some(2));
    }
}
