//! The pure domain: no I/O, no system clock (time is passed in, as Unix milliseconds).
//! A tournament is a fold over its events; commands are checked against the state and
//! produce events.

pub mod chips;
pub mod clock;
pub mod structure;
pub mod templates;
pub mod tournament;
pub mod wizard;

/// Unix time in milliseconds: the engine's only notion of time, always passed in.
pub type Millis = i64;
