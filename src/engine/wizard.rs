//! The structure wizard: from the expected field, the starting stack, the target length,
//! the level length and the chips, it proposes rounds whose blinds grow geometrically and
//! are always payable with the chips in play, with breaks, and chip-ups at the breaks
//! once a denomination is no longer needed.

use serde::Deserialize;
use utoipa::ToSchema;

use super::structure::{Level, MAX_LEVELS, Structure};

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WizardInput {
    pub players: u32,
    pub starting_stack: u64,
    /// How long the event should take, breaks included.
    pub target_minutes: u32,
    pub level_minutes: u32,
    /// Chip denominations, any order.
    pub chips: Vec<u64>,
    /// A break after every this many rounds (default 4).
    #[serde(default)]
    pub break_every: Option<u32>,
    #[serde(default)]
    pub break_minutes: Option<u32>,
    /// Big-blind ante from this round on (1-based; default 3; 0 for none).
    #[serde(default)]
    pub ante_from_round: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WizardError {
    #[error("players must be between 2 and 10,000")]
    Players,
    #[error("the starting stack must be at least 20 of the smallest chip, and at most 10^12")]
    Stack,
    #[error(
        "the level length is 1 to 240 minutes, the target 10 minutes to 7 days, and at least one level long"
    )]
    Length,
    #[error("give 1 to 20 distinct positive chip denominations, up to 10^12")]
    Chips,
    #[error("breaks come every 1 to 50 rounds and last 1 to 120 minutes")]
    Breaks,
}

/// Chips and stacks larger than this are no poker game (and would overflow the blinds).
const MAX_AMOUNT: u64 = 1_000_000_000_000;

/// "Nice" mantissas blinds are rounded to, as in most rooms' structures.
const NICE: [u64; 10] = [10, 12, 15, 20, 25, 30, 40, 50, 60, 80];

/// The nice number nearest to `x`, at least `min`.
fn nice(x: f64) -> u64 {
    if x <= 1.0 {
        return 1;
    }
    let exp = x.log10().floor() as i32 - 1;
    let scale = 10f64.powi(exp);
    let mut best = u64::MAX;
    let mut best_err = f64::MAX;
    for mult in [scale, scale * 10.0] {
        for m in NICE {
            let candidate = (m as f64 * mult).round().max(1.0);
            let err = (candidate / x).ln().abs();
            if err < best_err {
                best_err = err;
                best = candidate as u64;
            }
        }
    }
    best
}

pub fn propose(input: &WizardInput) -> Result<Structure, WizardError> {
    let mut chips = input.chips.clone();
    chips.sort_unstable();
    chips.dedup();
    if chips.is_empty()
        || chips.len() > 20
        || chips[0] == 0
        || chips.len() != input.chips.len()
        || chips.iter().any(|&c| c > MAX_AMOUNT)
    {
        return Err(WizardError::Chips);
    }
    if !(2..=10_000).contains(&input.players) {
        return Err(WizardError::Players);
    }
    if input.starting_stack < 20 * chips[0] || input.starting_stack > MAX_AMOUNT {
        return Err(WizardError::Stack);
    }
    if !(1..=240).contains(&input.level_minutes)
        || !(10..=7 * 24 * 60).contains(&input.target_minutes)
        || input.target_minutes < input.level_minutes
    {
        return Err(WizardError::Length);
    }
    let break_every = input.break_every.unwrap_or(4);
    let break_minutes = input.break_minutes.unwrap_or(10);
    if !(1..=50).contains(&break_every) || !(1..=120).contains(&break_minutes) {
        return Err(WizardError::Breaks);
    }

    // As many rounds as fit in the target, with their breaks (and in a structure).
    let mut rounds = 1u32;
    while {
        let next = rounds + 1;
        next + (next - 1) / break_every <= MAX_LEVELS as u32
            && next * input.level_minutes + (next - 1) / break_every * break_minutes
                <= input.target_minutes
    } {
        rounds += 1;
    }

    // From about 100 big blinds deep to about 10 each for the last two players.
    let total_chips = input.players as f64 * input.starting_stack as f64;
    let start_bb = (input.starting_stack as f64 / 100.0).max(2.0 * chips[0] as f64);
    let end_bb = (total_chips / 20.0).max(start_bb * 2.0);
    let ratio = if rounds > 1 {
        (end_bb / start_bb).powf(1.0 / f64::from(rounds - 1))
    } else {
        1.0
    };

    let ante_from = input.ante_from_round.unwrap_or(3);
    let mut blinds: Vec<(u64, u64, u64)> = Vec::new(); // (sb, bb, ante)
    for i in 0..rounds {
        let raw_bb = start_bb * ratio.powi(i as i32);
        // Count in the largest chip that still leaves the small blind several chips and
        // is a whole number of the smallest chip, so every amount is payable with it.
        let unit = chips
            .iter()
            .rev()
            .copied()
            .find(|&c| c % chips[0] == 0 && (c as f64) * 4.0 <= raw_bb / 2.0)
            .unwrap_or(chips[0]);
        let mut sb = (nice(raw_bb / 2.0 / unit as f64) * unit).max(unit);
        if let Some(&(_, prev_bb, _)) = blinds.last()
            && 2 * sb <= prev_bb
        {
            sb = (prev_bb / 2 / unit + 1) * unit;
        }
        let bb = 2 * sb;
        let ante = if ante_from > 0 && i + 1 >= ante_from {
            bb
        } else {
            0
        };
        blinds.push((sb, bb, ante));
    }

    Ok(assemble(
        &blinds,
        input.level_minutes * 60,
        break_every as usize,
        break_minutes * 60,
        &chips,
    ))
}

/// Rounds with breaks after every `break_every` rounds (none after the last); at each
/// break, the smallest denominations that no later blind needs are coloured up.
pub fn assemble(
    blinds: &[(u64, u64, u64)],
    level_secs: u32,
    break_every: usize,
    break_secs: u32,
    chips: &[u64],
) -> Structure {
    let mut in_play: Vec<u64> = chips.to_vec();
    let mut levels = Vec::new();
    for (i, &(sb, bb, ante)) in blinds.iter().enumerate() {
        levels.push(Level::Round {
            small_blind: sb,
            big_blind: bb,
            ante,
            big_blind_ante: ante > 0,
            duration_secs: level_secs,
            game: None,
        });
        let last = i + 1 == blinds.len();
        if !last && (i + 1) % break_every == 0 {
            let later = &blinds[i + 1..];
            let mut chip_up = Vec::new();
            while in_play.len() > 1
                && later
                    .iter()
                    .all(|&(s, b, a)| [s, b, a].iter().all(|v| v % in_play[1] == 0))
            {
                chip_up.push(in_play.remove(0));
            }
            levels.push(Level::Break {
                duration_secs: break_secs,
                chip_up,
            });
        }
    }
    Structure { levels }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn input() -> WizardInput {
        WizardInput {
            players: 40,
            starting_stack: 20_000,
            target_minutes: 300,
            level_minutes: 20,
            chips: vec![25, 100, 500, 1000, 5000],
            break_every: None,
            break_minutes: None,
            ante_from_round: None,
        }
    }

    #[test]
    fn a_standard_evening() {
        let s = propose(&input()).unwrap();
        s.validate().unwrap();
        assert_eq!(s.first_unpayable(&input().chips), None);
        let rounds: Vec<_> = s.levels.iter().filter(|l| !l.is_break()).collect();
        let minutes: u32 = s
            .levels
            .iter()
            .map(|l| (l.duration_ms() / 60_000) as u32)
            .sum();
        assert!(minutes <= 300, "{minutes}");
        assert!(rounds.len() >= 12, "{}", rounds.len());
        let Level::Round {
            big_blind: first, ..
        } = rounds[0]
        else {
            unreachable!()
        };
        assert_eq!(*first, 200, "starts about 100 big blinds deep");
        assert!(
            s.levels
                .iter()
                .any(|l| matches!(l, Level::Break { chip_up, .. } if chip_up.contains(&25)))
        );
    }

    #[test]
    fn nice_numbers() {
        assert_eq!(nice(97.0), 100);
        assert_eq!(nice(140.0), 150);
        assert_eq!(nice(1_180.0), 1_200);
        assert_eq!(nice(6_500.0), 6_000);
        assert_eq!(nice(7_000.0), 8_000);
    }

    #[test]
    fn bad_input_is_refused() {
        let mut i = input();
        i.chips = vec![];
        assert_eq!(propose(&i), Err(WizardError::Chips));
        let mut i = input();
        i.starting_stack = 100;
        assert_eq!(propose(&i), Err(WizardError::Stack));
        let mut i = input();
        i.players = 1;
        assert_eq!(propose(&i), Err(WizardError::Players));
    }

    proptest! {
        #[test]
        fn blinds_are_always_payable_and_grow(
            players in 2u32..2000,
            stack_units in 20u64..1000,
            target in 30u32..(7 * 24 * 60),
            level in 1u32..60,
            chips in proptest::collection::btree_set(1u64..1_000_000_000, 1..7),
            break_every in 1u32..8,
        ) {
            let chips: Vec<u64> = chips.into_iter().collect();
            let input = WizardInput {
                players,
                starting_stack: stack_units * chips[0],
                target_minutes: target.max(level),
                level_minutes: level,
                chips: chips.clone(),
                break_every: Some(break_every),
                break_minutes: Some(10),
                ante_from_round: Some(3),
            };
            let s = propose(&input).unwrap();
            prop_assert!(s.validate().is_ok());
            prop_assert_eq!(s.first_unpayable(&chips), None);
            let bbs: Vec<u64> = s.levels.iter().filter_map(|l| match l {
                Level::Round { big_blind, .. } => Some(*big_blind),
                _ => None,
            }).collect();
            prop_assert!(bbs.windows(2).all(|w| w[0] < w[1]), "{:?}", bbs);
        }
    }
}
