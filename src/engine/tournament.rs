//! A tournament: its own copy of the templates it was created from, its status and its
//! clock, as a fold over its events. Commands are checked against the state and turn
//! into events; undo appends an `Undone` event and the state is replayed without the
//! undone one, so any action can be undone, also across automatic level changes.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Millis;
use super::chips::{BuyIn, ChipSet};
use super::clock::{Clock, Position};
use super::structure::{Level, Structure};
use crate::auth::OperatorId;
use crate::ids::TournamentId;

/// What a tournament is created with: its own copies, never shared with the templates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Setup {
    pub name: String,
    pub structure: Structure,
    pub chip_set: ChipSet,
    pub buy_in: BuyIn,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    Created {
        setup: Setup,
    },
    ClockStarted,
    ClockPaused,
    ClockResumed,
    /// Next, previous or a jump: the level starts with its full time.
    LevelSet {
        level: usize,
    },
    TimeAdjusted {
        delta_ms: i64,
    },
    /// At start-up the wall clock was behind the last event (a box without a
    /// real-time clock after a power cut): the clock is paused at that event's time.
    TimeCheckRequired,
    TimeCheckCleared,
    Finished,
    Archived,
    Undone {
        seq: u64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Event {
    /// 1, 2, 3… within the tournament; also its version after this event.
    pub seq: u64,
    pub at: Millis,
    pub actor: Option<OperatorId>,
    #[serde(flatten)]
    pub kind: EventKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Created,
    Running,
    Finished,
    Archived,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tournament {
    pub id: TournamentId,
    pub setup: Setup,
    pub status: Status,
    pub clock: Clock,
    /// Staff must check the box's time before the clock runs again.
    pub check_time: bool,
    /// The seq of the last event.
    pub version: u64,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    Start,
    Pause,
    Resume,
    NextLevel,
    PreviousLevel,
    JumpToLevel {
        /// 0-based index into the structure.
        level: usize,
    },
    AdjustTime {
        /// Seconds to add (negative to remove).
        seconds: i64,
    },
    ClearTimeCheck,
    Finish,
    Archive,
    Undo {
        /// The event to undo.
        seq: u64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("the clock has not started")]
    NotStarted,
    #[error("the clock has started already")]
    AlreadyStarted,
    #[error("the clock is running already")]
    AlreadyRunning,
    #[error("the clock is paused already")]
    AlreadyPaused,
    #[error("check the box's time first: the clock was stopped after a power cut")]
    CheckTime,
    #[error("there is no time check to clear")]
    NoTimeCheck,
    #[error("there is no level {0} (the structure has {1})")]
    NoSuchLevel(usize, usize),
    #[error("this is the first level")]
    FirstLevel,
    #[error("time can be adjusted by at most 24 hours at once")]
    Adjustment,
    #[error("the tournament is {0:?}: {1}")]
    Status(Status, &'static str),
    #[error("event {0} cannot be undone")]
    NotUndoable(u64),
    #[error("event {0} was undone already")]
    AlreadyUndone(u64),
    #[error("there is no event {0}")]
    NoSuchEvent(u64),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    #[error("the first event must be Created")]
    NoCreated,
    #[error("event {0} is out of sequence")]
    Sequence(u64),
}

impl Tournament {
    /// The state after `events`, skipping undone ones.
    pub fn replay(id: TournamentId, events: &[Event]) -> Result<Self, ReplayError> {
        let (first, rest) = events.split_first().ok_or(ReplayError::NoCreated)?;
        let EventKind::Created { setup } = &first.kind else {
            return Err(ReplayError::NoCreated);
        };
        if first.seq != 1 {
            return Err(ReplayError::Sequence(first.seq));
        }
        let undone: HashSet<u64> = events
            .iter()
            .filter_map(|e| match e.kind {
                EventKind::Undone { seq } => Some(seq),
                _ => None,
            })
            .collect();
        let mut state = Tournament {
            id,
            setup: setup.clone(),
            status: Status::Created,
            clock: Clock::default(),
            check_time: false,
            version: 1,
            created_at: first.at,
        };
        for (i, event) in rest.iter().enumerate() {
            if event.seq != i as u64 + 2 {
                return Err(ReplayError::Sequence(event.seq));
            }
            if !undone.contains(&event.seq) {
                state.fold(event);
            }
            state.version = event.seq;
        }
        Ok(state)
    }

    /// Applies one new event. Equal to replaying the whole log with it (a property test
    /// checks this); an undo replays.
    pub fn apply(&mut self, event: &Event, log: &[Event]) {
        if let EventKind::Undone { .. } = event.kind {
            let mut all = log.to_vec();
            all.push(event.clone());
            *self = Self::replay(self.id, &all).expect("a log that replayed before replays");
        } else {
            self.fold(event);
            self.version = event.seq;
        }
    }

    /// Folding is total: an event that no longer fits (its cause was undone) changes
    /// nothing rather than failing.
    fn fold(&mut self, event: &Event) {
        let s = &self.setup.structure;
        let now = event.at;
        match &event.kind {
            EventKind::Created { .. } | EventKind::Undone { .. } => {}
            EventKind::ClockStarted => {
                if self.status == Status::Created {
                    self.clock.start(s, now);
                    self.status = Status::Running;
                }
            }
            EventKind::ClockPaused => self.clock.pause(s, now),
            EventKind::ClockResumed => {
                if self.status == Status::Running {
                    self.clock.resume(now);
                }
            }
            EventKind::LevelSet { level } => {
                if self.clock.started {
                    self.clock.set_level(s, *level, now);
                }
            }
            EventKind::TimeAdjusted { delta_ms } => {
                if self.clock.started {
                    self.clock.adjust(s, *delta_ms, now);
                }
            }
            EventKind::TimeCheckRequired => {
                self.clock.pause(s, now);
                self.check_time = true;
            }
            EventKind::TimeCheckCleared => self.check_time = false,
            EventKind::Finished => {
                self.clock.pause(s, now);
                self.status = Status::Finished;
            }
            EventKind::Archived => {
                if self.status == Status::Finished {
                    self.status = Status::Archived;
                }
            }
        }
    }

    pub fn position(&self, now: Millis) -> Position {
        if !self.clock.started {
            // Before the start: the first level, with all its time.
            return Position {
                level: 0,
                remaining_ms: self.setup.structure.level(0).duration_ms(),
                elapsed_ms: 0,
            };
        }
        self.clock.at(&self.setup.structure, now)
    }

    /// Play time until the next break starts, if one lies ahead.
    pub fn until_next_break(&self, now: Millis) -> Option<i64> {
        let s = &self.setup.structure;
        let position = self.position(now);
        if s.level(position.level).is_break() {
            return None;
        }
        let mut total = position.remaining_ms;
        for level in &s.levels[position.level + 1..] {
            if level.is_break() {
                return Some(total);
            }
            total += level.duration_ms();
        }
        None
    }

    /// Checks `command` at `now` against this state (and its log, for undo) and returns
    /// the events it produces.
    pub fn decide(
        &self,
        log: &[Event],
        command: &Command,
        now: Millis,
    ) -> Result<Vec<EventKind>, CommandError> {
        use CommandError as E;
        let live = matches!(self.status, Status::Created | Status::Running);
        let clock_command = !matches!(
            command,
            Command::Finish | Command::Archive | Command::Undo { .. }
        );
        if clock_command && !live {
            return Err(E::Status(self.status, "its clock is stopped for good"));
        }
        let started = self.clock.started;
        let levels = self.setup.structure.levels.len();
        let kind = match command {
            Command::Start if started => return Err(E::AlreadyStarted),
            Command::Start => EventKind::ClockStarted,
            _ if clock_command && !started => return Err(E::NotStarted),
            Command::Pause if !self.clock.running => return Err(E::AlreadyPaused),
            Command::Pause => EventKind::ClockPaused,
            Command::Resume if self.clock.running => return Err(E::AlreadyRunning),
            Command::Resume if self.check_time => return Err(E::CheckTime),
            Command::Resume => EventKind::ClockResumed,
            Command::NextLevel => EventKind::LevelSet {
                level: (self.position(now).level + 1).min(levels - 1),
            },
            Command::PreviousLevel => match self.position(now).level {
                0 => return Err(E::FirstLevel),
                level => EventKind::LevelSet { level: level - 1 },
            },
            Command::JumpToLevel { level } if *level >= levels => {
                return Err(E::NoSuchLevel(*level, levels));
            }
            Command::JumpToLevel { level } => EventKind::LevelSet { level: *level },
            Command::AdjustTime { seconds } if seconds.unsigned_abs() > 24 * 3600 => {
                return Err(E::Adjustment);
            }
            Command::AdjustTime { seconds } => EventKind::TimeAdjusted {
                delta_ms: seconds * 1000,
            },
            Command::ClearTimeCheck if !self.check_time => return Err(E::NoTimeCheck),
            Command::ClearTimeCheck => EventKind::TimeCheckCleared,
            Command::Finish if !live => return Err(E::Status(self.status, "it has ended already")),
            Command::Finish => EventKind::Finished,
            Command::Archive if self.status != Status::Finished => {
                return Err(E::Status(
                    self.status,
                    "only a finished tournament is archived",
                ));
            }
            Command::Archive => EventKind::Archived,
            Command::Undo { seq } => {
                let target = log
                    .iter()
                    .find(|e| e.seq == *seq)
                    .ok_or(E::NoSuchEvent(*seq))?;
                if matches!(
                    target.kind,
                    EventKind::Created { .. }
                        | EventKind::Undone { .. }
                        | EventKind::TimeCheckRequired
                ) {
                    return Err(E::NotUndoable(*seq));
                }
                if log
                    .iter()
                    .any(|e| e.kind == EventKind::Undone { seq: *seq })
                {
                    return Err(E::AlreadyUndone(*seq));
                }
                EventKind::Undone { seq: *seq }
            }
        };
        Ok(vec![kind])
    }

    /// What every screen may see, at `now`.
    pub fn public(&self, now: Millis) -> PublicState {
        let s = &self.setup.structure;
        let position = self.position(now);
        let level = s.level(position.level);
        let next =
            (position.level + 1 < s.levels.len()).then(|| s.level(position.level + 1).clone());
        PublicState {
            id: self.id,
            name: self.setup.name.clone(),
            status: self.status,
            version: self.version,
            server_time: now,
            clock: ClockView {
                started: self.clock.started,
                running: self.clock.running,
                level: position.level,
                round: s.round_number(position.level),
                remaining_ms: position.remaining_ms,
                level_ends_at: self.clock.running.then_some(now + position.remaining_ms),
                elapsed_ms: position.elapsed_ms,
                until_break_ms: self.until_next_break(now),
                check_time: self.check_time,
                on_break: level.is_break(),
                last_level: position.level + 1 == s.levels.len(),
            },
            level: level.clone(),
            next_level: next,
            chip_up: match level {
                Level::Break { chip_up, .. } if !chip_up.is_empty() => chip_up.clone(),
                _ => Vec::new(),
            },
            levels: s.levels.len(),
            structure: s.clone(),
            chip_set: self.setup.chip_set.clone(),
            players: PlayerCounts::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ClockView {
    pub started: bool,
    pub running: bool,
    /// 0-based index into the structure.
    pub level: usize,
    /// The round's number as shown (breaks have none).
    pub round: Option<usize>,
    pub remaining_ms: i64,
    /// Unix ms when the level ends, while running: screens count down to it.
    pub level_ends_at: Option<Millis>,
    pub elapsed_ms: i64,
    pub until_break_ms: Option<i64>,
    pub check_time: bool,
    pub on_break: bool,
    pub last_level: bool,
}

/// Filled in by the registration and money issues.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct PlayerCounts {
    pub players_left: u32,
    pub entries: u32,
    pub average_stack: u64,
    pub prize_pool_cents: i64,
}

/// The public snapshot: what the wall display and players' phones get.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PublicState {
    pub id: TournamentId,
    pub name: String,
    pub status: Status,
    pub version: u64,
    /// The server's time when this was made (Unix ms), to correct the screen's clock.
    pub server_time: Millis,
    pub clock: ClockView,
    pub level: Level,
    pub next_level: Option<Level>,
    /// Denominations coloured up during the current break.
    pub chip_up: Vec<u64>,
    pub levels: usize,
    /// The tournament's own structure (for the level list and jumps).
    pub structure: Structure,
    /// Its chips (colours for chip-up notices).
    pub chip_set: ChipSet,
    pub players: PlayerCounts,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::templates;
    use proptest::prelude::*;

    const MIN: i64 = 60_000;

    fn created() -> (Tournament, Vec<Event>) {
        let setup = templates::builtin_setup("turbo", "Friday Turbo").unwrap();
        let log = vec![Event {
            seq: 1,
            at: 0,
            actor: None,
            kind: EventKind::Created { setup },
        }];
        (Tournament::replay(TournamentId::new(), &log).unwrap(), log)
    }

    fn run(
        t: &mut Tournament,
        log: &mut Vec<Event>,
        command: Command,
        now: Millis,
    ) -> Result<(), CommandError> {
        for kind in t.decide(log, &command, now)? {
            let event = Event {
                seq: t.version + 1,
                at: now,
                actor: None,
                kind,
            };
            t.apply(&event, log);
            log.push(event);
        }
        Ok(())
    }

    #[test]
    fn before_the_start_the_first_level_shows_its_full_time() {
        let (t, _) = created();
        let first = t.setup.structure.levels[0].duration_ms();
        let public = t.public(123);
        assert_eq!(public.clock.remaining_ms, first);
        assert_eq!(public.clock.level_ends_at, None);
        let to_break: i64 = t
            .setup
            .structure
            .levels
            .iter()
            .take_while(|l| !l.is_break())
            .map(|l| l.duration_ms())
            .sum();
        assert_eq!(public.clock.until_break_ms, Some(to_break));
    }

    #[test]
    fn a_night_of_clock_commands() {
        let (mut t, mut log) = created();
        assert_eq!(
            run(&mut t, &mut log, Command::Pause, 0),
            Err(CommandError::NotStarted)
        );
        run(&mut t, &mut log, Command::Start, 0).unwrap();
        assert_eq!(t.status, Status::Running);
        assert_eq!(
            run(&mut t, &mut log, Command::Start, 1),
            Err(CommandError::AlreadyStarted)
        );
        run(&mut t, &mut log, Command::Pause, 5 * MIN).unwrap();
        assert_eq!(
            run(&mut t, &mut log, Command::Pause, 6 * MIN),
            Err(CommandError::AlreadyPaused)
        );
        run(&mut t, &mut log, Command::Resume, 10 * MIN).unwrap();
        run(&mut t, &mut log, Command::NextLevel, 11 * MIN).unwrap();
        assert_eq!(t.position(11 * MIN).level, 1);
        run(&mut t, &mut log, Command::PreviousLevel, 12 * MIN).unwrap();
        assert_eq!(t.position(12 * MIN).level, 0);
        assert_eq!(
            run(&mut t, &mut log, Command::PreviousLevel, 12 * MIN),
            Err(CommandError::FirstLevel)
        );
        assert!(matches!(
            run(
                &mut t,
                &mut log,
                Command::JumpToLevel { level: 999 },
                13 * MIN
            ),
            Err(CommandError::NoSuchLevel(999, _))
        ));
        run(&mut t, &mut log, Command::Finish, 20 * MIN).unwrap();
        assert_eq!(
            run(&mut t, &mut log, Command::Resume, 21 * MIN),
            Err(CommandError::Status(
                Status::Finished,
                "its clock is stopped for good"
            ))
        );
        run(&mut t, &mut log, Command::Archive, 22 * MIN).unwrap();
        assert_eq!(t.status, Status::Archived);
        assert_eq!(t.version, log.len() as u64);
    }

    #[test]
    fn undo_crosses_automatic_level_changes() {
        let (mut t, mut log) = created();
        run(&mut t, &mut log, Command::Start, 0).unwrap();
        let levels_len = t.setup.structure.levels[0].duration_ms();
        // A pause long after several automatic level changes…
        let late = 3 * levels_len + 1234;
        run(&mut t, &mut log, Command::Pause, late).unwrap();
        let paused_at = t.position(late + 60 * MIN);
        assert!(paused_at.level >= 3);
        // …undone later: the clock runs as if never paused.
        let pause_seq = t.version;
        run(
            &mut t,
            &mut log,
            Command::Undo { seq: pause_seq },
            late + 10 * MIN,
        )
        .unwrap();
        assert!(t.clock.running);
        let never_paused = Tournament::replay(t.id, &log[..2]).unwrap();
        assert_eq!(
            t.position(late + 20 * MIN),
            never_paused.position(late + 20 * MIN)
        );
        assert_eq!(
            run(&mut t, &mut log, Command::Undo { seq: pause_seq }, late),
            Err(CommandError::AlreadyUndone(pause_seq))
        );
        assert_eq!(
            run(&mut t, &mut log, Command::Undo { seq: 1 }, late),
            Err(CommandError::NotUndoable(1))
        );
    }

    #[test]
    fn a_time_check_pauses_until_cleared() {
        let (mut t, mut log) = created();
        run(&mut t, &mut log, Command::Start, 0).unwrap();
        let event = Event {
            seq: t.version + 1,
            at: 5 * MIN,
            actor: None,
            kind: EventKind::TimeCheckRequired,
        };
        t.apply(&event, &log);
        log.push(event);
        assert!(!t.clock.running && t.check_time);
        assert_eq!(
            run(&mut t, &mut log, Command::Resume, 6 * MIN),
            Err(CommandError::CheckTime)
        );
        run(&mut t, &mut log, Command::ClearTimeCheck, 6 * MIN).unwrap();
        run(&mut t, &mut log, Command::Resume, 7 * MIN).unwrap();
        assert_eq!(t.position(7 * MIN).elapsed_ms, 5 * MIN);
    }

    fn command() -> impl Strategy<Value = Command> {
        prop_oneof![
            Just(Command::Start),
            Just(Command::Pause),
            Just(Command::Resume),
            Just(Command::NextLevel),
            Just(Command::PreviousLevel),
            (0usize..30).prop_map(|level| Command::JumpToLevel { level }),
            prop_oneof![(-1200i64..1200), Just(i64::MIN), Just(i64::MAX)]
                .prop_map(|seconds| Command::AdjustTime { seconds }),
            Just(Command::Finish),
            Just(Command::Archive),
            (1u64..40).prop_map(|seq| Command::Undo { seq }),
        ]
    }

    proptest! {
        /// Replaying the log gives the state live application reached.
        #[test]
        fn replay_equals_live_application(steps in proptest::collection::vec((0i64..30 * MIN, command()), 0..40)) {
            let (mut t, mut log) = created();
            let mut now = 0;
            for (gap, command) in steps {
                now += gap;
                let _ = run(&mut t, &mut log, command, now);
                prop_assert_eq!(&Tournament::replay(t.id, &log).unwrap(), &t);
            }
        }

        /// Doing an action and undoing it equals never having done it.
        #[test]
        fn undo_then_replay_equals_never_done(
            before in proptest::collection::vec((0i64..30 * MIN, command()), 0..15),
            action in command(),
            gap in 0i64..30 * MIN,
            probe in 0i64..120 * MIN,
        ) {
            let (mut t, mut log) = created();
            let mut now = 0;
            for (g, command) in before {
                now += g;
                let _ = run(&mut t, &mut log, command, now);
            }
            let without = t.clone();
            now += gap;
            if matches!(action, Command::Undo { .. }) || run(&mut t, &mut log, action, now).is_err() {
                return Ok(());
            }
            let seq = t.version;
            run(&mut t, &mut log, Command::Undo { seq }, now).unwrap();
            prop_assert_eq!(t.status, without.status);
            prop_assert_eq!(t.check_time, without.check_time);
            prop_assert_eq!(t.position(now + probe), without.position(now + probe));
        }
    }
}
