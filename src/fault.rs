//! Fault points for crash tests: `LEAF_TEST_FAULT=<name>` makes leaf exit at once, as a
//! power cut would, when it reaches the point of that name. Unset in production, where
//! every point is a no-op.

use std::sync::LazyLock;

static FAULT: LazyLock<Option<String>> = LazyLock::new(|| std::env::var("LEAF_TEST_FAULT").ok());

/// Exits the process (code 86, no cleanup) if `name` is the configured fault.
pub fn point(name: &str) {
    if FAULT.as_deref() == Some(name) {
        eprintln!("leaf: fault point {name:?} reached: exiting like a power cut");
        std::process::exit(86);
    }
}
