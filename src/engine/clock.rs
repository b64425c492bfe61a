//! The tournament clock, derived rather than ticked: it stores an anchor (the level and
//! the time left in it at an instant, and whether it runs) and computes where the room
//! is at any later instant. Levels change by themselves as time passes; the last level
//! repeats when the structure runs out, so the clock never sticks at 0:00.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Millis;
use super::structure::Structure;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Clock {
    pub started: bool,
    pub running: bool,
    /// The level at `anchor_at`.
    pub level: usize,
    /// Time left in that level at `anchor_at`.
    pub remaining_ms: i64,
    pub anchor_at: Millis,
    /// Play time (pauses excluded) before `anchor_at`.
    pub elapsed_ms: i64,
}

/// Where the clock is at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct Position {
    pub level: usize,
    pub remaining_ms: i64,
    pub elapsed_ms: i64,
}

/// Time added or removed never leaves a level with more than this.
const MAX_REMAINING_MS: i64 = 24 * 3600 * 1000;

impl Clock {
    pub fn at(&self, structure: &Structure, now: Millis) -> Position {
        if !self.running {
            return Position {
                level: self.level,
                remaining_ms: self.remaining_ms,
                elapsed_ms: self.elapsed_ms,
            };
        }
        // A wall clock behind the anchor does not run the clock backwards.
        let passed = (now - self.anchor_at).max(0);
        let mut level = self.level;
        let mut remaining = self.remaining_ms - passed;
        let last = structure.levels.len() - 1;
        while remaining <= 0 {
            if level >= last {
                // The last level repeats: skip whole repetitions at once.
                let duration = structure.level(last).duration_ms();
                let periods = (-remaining) / duration + 1;
                remaining += periods * duration;
                level = last;
                break;
            }
            level = structure.next(level);
            remaining += structure.level(level).duration_ms();
        }
        Position {
            level,
            remaining_ms: remaining,
            elapsed_ms: self.elapsed_ms + passed,
        }
    }

    fn anchor(&mut self, position: Position, now: Millis) {
        self.level = position.level;
        self.remaining_ms = position.remaining_ms;
        self.elapsed_ms = position.elapsed_ms;
        self.anchor_at = now;
    }

    pub fn start(&mut self, structure: &Structure, now: Millis) {
        *self = Clock {
            started: true,
            running: true,
            level: 0,
            remaining_ms: structure.level(0).duration_ms(),
            anchor_at: now,
            elapsed_ms: 0,
        };
    }

    pub fn pause(&mut self, structure: &Structure, now: Millis) {
        if self.running {
            let position = self.at(structure, now);
            self.anchor(position, now);
            self.running = false;
        }
    }

    pub fn resume(&mut self, now: Millis) {
        if self.started && !self.running {
            self.anchor_at = now;
            self.running = true;
        }
    }

    /// Moves to `level` with its full time; a running clock keeps running.
    pub fn set_level(&mut self, structure: &Structure, level: usize, now: Millis) {
        let mut position = self.at(structure, now);
        position.level = level.min(structure.levels.len() - 1);
        position.remaining_ms = structure.level(position.level).duration_ms();
        self.anchor(position, now);
    }

    /// Adds (or with a negative delta, removes) time in the current level. Removing more
    /// than is left ends the level.
    pub fn adjust(&mut self, structure: &Structure, delta_ms: i64, now: Millis) {
        let mut position = self.at(structure, now);
        position.remaining_ms = (position.remaining_ms + delta_ms).clamp(0, MAX_REMAINING_MS);
        self.anchor(position, now);
        if self.running && self.remaining_ms == 0 {
            let next = self.at(structure, now);
            self.anchor(next, now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::structure::Level;
    use proptest::prelude::*;

    fn round(mins: u32) -> Level {
        Level::Round {
            small_blind: 25,
            big_blind: 50,
            ante: 0,
            big_blind_ante: false,
            duration_secs: mins * 60,
            game: None,
        }
    }

    fn brk(mins: u32) -> Level {
        Level::Break {
            duration_secs: mins * 60,
            chip_up: vec![],
        }
    }

    fn structure() -> Structure {
        Structure {
            levels: vec![round(20), round(20), brk(10), round(30)],
        }
    }

    const MIN: i64 = 60_000;

    #[test]
    fn levels_change_by_themselves_and_the_last_repeats() {
        let s = structure();
        let mut c = Clock::default();
        c.start(&s, 0);
        assert_eq!(c.at(&s, 0).level, 0);
        assert_eq!(c.at(&s, 19 * MIN).remaining_ms, MIN);
        assert_eq!(c.at(&s, 20 * MIN).level, 1);
        assert_eq!(c.at(&s, 20 * MIN).remaining_ms, 20 * MIN);
        assert_eq!(c.at(&s, 45 * MIN).level, 2); // the break
        assert_eq!(c.at(&s, 50 * MIN).level, 3);
        // Long after the structure ran out: still the last level, never 0:00.
        let late = c.at(&s, 50 * MIN + 10 * 30 * MIN + 7 * MIN);
        assert_eq!(late.level, 3);
        assert_eq!(late.remaining_ms, 23 * MIN);
        assert_eq!(late.elapsed_ms, 50 * MIN + 10 * 30 * MIN + 7 * MIN);
    }

    #[test]
    fn pause_freezes_resume_continues() {
        let s = structure();
        let mut c = Clock::default();
        c.start(&s, 0);
        c.pause(&s, 5 * MIN);
        assert_eq!(c.at(&s, 100 * MIN).remaining_ms, 15 * MIN);
        c.resume(100 * MIN);
        let p = c.at(&s, 110 * MIN);
        assert_eq!(
            (p.level, p.remaining_ms, p.elapsed_ms),
            (0, 5 * MIN, 15 * MIN)
        );
    }

    #[test]
    fn jumps_and_adjustments() {
        let s = structure();
        let mut c = Clock::default();
        c.start(&s, 0);
        c.set_level(&s, 3, MIN);
        assert_eq!(c.at(&s, MIN).remaining_ms, 30 * MIN);
        c.adjust(&s, -29 * MIN, 2 * MIN); // to 0 on the last level: it repeats
        assert_eq!(c.at(&s, 2 * MIN).level, 3);
        assert_eq!(c.at(&s, 2 * MIN).remaining_ms, 30 * MIN);
        c.pause(&s, 2 * MIN);
        c.adjust(&s, -31 * MIN, 2 * MIN); // paused: it waits at 0:00 for the resume
        assert_eq!(c.at(&s, 9 * MIN).remaining_ms, 0);
        c.resume(9 * MIN);
        c.set_level(&s, 0, 10 * MIN);
        c.adjust(&s, -25 * MIN, 10 * MIN); // more than is left: the level ends
        assert_eq!(c.at(&s, 10 * MIN).level, 1);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Pause,
        Resume,
        Set(usize),
        Adjust(i64),
    }

    fn op() -> impl Strategy<Value = (i64, Op)> {
        (
            0i64..40 * MIN,
            prop_oneof![
                Just(Op::Pause),
                Just(Op::Resume),
                (0usize..6).prop_map(Op::Set),
                (-40 * MIN..40 * MIN).prop_map(Op::Adjust),
            ],
        )
    }

    proptest! {
        /// Whatever happens, at any instant: the level is in range, the time left is
        /// within (0, that level's length] unless paused at 0 or adjusted upwards, play
        /// time never exceeds wall time, and a running clock counts down one second per
        /// second until its level changes.
        #[test]
        fn clock_arithmetic_holds(ops in proptest::collection::vec(op(), 0..30), probe in 0i64..60 * MIN) {
            let s = structure();
            let mut c = Clock::default();
            c.start(&s, 0);
            let mut now = 0;
            for (gap, op) in ops {
                now += gap;
                match op {
                    Op::Pause => c.pause(&s, now),
                    Op::Resume => c.resume(now),
                    Op::Set(l) => c.set_level(&s, l, now),
                    Op::Adjust(d) => c.adjust(&s, d, now),
                }
                let p = c.at(&s, now);
                prop_assert!(p.level < s.levels.len());
                prop_assert!(p.remaining_ms >= 0 && p.remaining_ms <= MAX_REMAINING_MS);
                prop_assert!(p.elapsed_ms <= now);
            }
            let a = c.at(&s, now);
            let b = c.at(&s, now + probe);
            if c.running {
                prop_assert!(b.remaining_ms > 0);
                prop_assert_eq!(b.elapsed_ms - a.elapsed_ms, probe);
                if b.level == a.level && probe < a.remaining_ms {
                    prop_assert_eq!(a.remaining_ms - b.remaining_ms, probe);
                }
            } else {
                prop_assert_eq!(a, b);
            }
        }

        /// Pausing and resuming at once changes nothing: the anchor is only a cache.
        #[test]
        fn re_anchoring_is_invisible(t in 0i64..200 * MIN, probe in 0i64..200 * MIN) {
            let s = structure();
            let mut c = Clock::default();
            c.start(&s, 0);
            let straight = c.at(&s, t + probe);
            c.pause(&s, t);
            c.resume(t);
            prop_assert_eq!(c.at(&s, t + probe), straight);
        }
    }
}
