//! Login throttling, per operator and per client address: after 5 failures each new
//! attempt waits 1, 2, 4, 8, 16 s; after 10 the key is locked for 15 minutes. A success
//! clears both keys; an admin can unlock an operator. Time is passed in.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

pub const BACKOFF_AFTER: u32 = 5;
pub const LOCK_AFTER: u32 = 10;
pub const LOCK_FOR: Duration = Duration::from_secs(15 * 60);
/// Entries kept at most; expired ones are pruned first when it fills up.
const MAX_ENTRIES: usize = 10_000;

/// A wait in whole seconds, rounded up and at least 1: a client that waits this long
/// (`Retry-After`) is let in.
pub fn whole_seconds(wait: Duration) -> u64 {
    (wait.as_millis().div_ceil(1000) as u64).max(1)
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    /// The operator id as sent (also unknown ones, so guessing ids is throttled too).
    Operator(String),
    Address(IpAddr),
}

#[derive(Debug, Default, Clone)]
struct Entry {
    failures: u32,
    blocked_until: Option<Instant>,
    last_failure: Option<Instant>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Failure {
    /// Try again after this long.
    Backoff(Duration),
    /// Locked for 15 minutes: the 10th failure.
    Locked,
}

#[derive(Debug, Default)]
pub struct Throttle {
    entries: HashMap<Key, Entry>,
}

impl Throttle {
    /// `Err(wait)` when any of the keys may not try now.
    pub fn check(&mut self, keys: &[Key], now: Instant) -> Result<(), Duration> {
        let mut wait = Duration::ZERO;
        for key in keys {
            let Some(entry) = self.entries.get_mut(key) else {
                continue;
            };
            match entry.blocked_until {
                Some(until) if until > now => wait = wait.max(until - now),
                Some(_) if entry.failures >= LOCK_AFTER => *entry = Entry::default(), // served
                _ => {}
            }
        }
        if wait.is_zero() { Ok(()) } else { Err(wait) }
    }

    /// An attempt: refused (`Err(wait)`) while any key must wait; otherwise counted as
    /// a failure at once, in the same step, and its consequence returned. A success
    /// then clears the keys with [`Throttle::succeed`].
    pub fn attempt(&mut self, keys: &[Key], now: Instant) -> Result<Option<Failure>, Duration> {
        self.check(keys, now)?;
        Ok(self.fail(keys, now))
    }

    /// Records a failed attempt; returns the strictest consequence, if any.
    pub fn fail(&mut self, keys: &[Key], now: Instant) -> Option<Failure> {
        if self.entries.len() >= MAX_ENTRIES {
            self.prune(now);
        }
        while self.entries.len() >= MAX_ENTRIES {
            // Still full of live entries: forget the one that failed longest ago.
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, e)| e.last_failure)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(key) => self.entries.remove(&key),
                None => break,
            };
        }
        let mut worst = None;
        for key in keys {
            let entry = self.entries.entry(key.clone()).or_default();
            // Failures long ago do not count any more.
            if entry
                .last_failure
                .is_some_and(|t| now.duration_since(t) > LOCK_FOR)
            {
                *entry = Entry::default();
            }
            entry.failures += 1;
            entry.last_failure = Some(now);
            let consequence = if entry.failures >= LOCK_AFTER {
                entry.blocked_until = Some(now + LOCK_FOR);
                Some(Failure::Locked)
            } else if entry.failures >= BACKOFF_AFTER {
                let wait = Duration::from_secs(1 << (entry.failures - BACKOFF_AFTER));
                entry.blocked_until = Some(now + wait);
                Some(Failure::Backoff(wait))
            } else {
                None
            };
            worst = match (worst, consequence) {
                (Some(Failure::Locked), _) | (_, Some(Failure::Locked)) => Some(Failure::Locked),
                (Some(Failure::Backoff(a)), Some(Failure::Backoff(b))) => {
                    Some(Failure::Backoff(a.max(b)))
                }
                (a, b) => a.or(b),
            };
        }
        worst
    }

    pub fn succeed(&mut self, keys: &[Key]) {
        for key in keys {
            self.entries.remove(key);
        }
    }

    /// An admin lifts a lockout: the operator's, and every address's (the phone the
    /// operator uses may be locked too).
    pub fn unlock_operator(&mut self, operator: &str) {
        self.entries
            .retain(|key, _| matches!(key, Key::Operator(id) if id != operator));
    }

    /// Until when `key` is locked out (after 10 failures), if it is.
    pub fn locked_until(&self, key: &Key, now: Instant) -> Option<Instant> {
        let entry = self.entries.get(key)?;
        entry
            .blocked_until
            .filter(|&until| until > now && entry.failures >= LOCK_AFTER)
    }

    fn prune(&mut self, now: Instant) {
        self.entries.retain(|_, e| {
            e.blocked_until.is_some_and(|u| u > now)
                || e.last_failure
                    .is_some_and(|t| now.duration_since(t) <= LOCK_FOR)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Vec<Key> {
        vec![
            Key::Operator("op".into()),
            Key::Address("192.0.2.7".parse().unwrap()),
        ]
    }

    #[test]
    fn four_failures_cost_nothing_then_backoff_doubles_then_lock() {
        let mut t = Throttle::default();
        let mut now = Instant::now();
        for _ in 0..4 {
            assert_eq!(t.check(&keys(), now), Ok(()));
            assert_eq!(t.fail(&keys(), now), None);
        }
        for n in 0..5 {
            assert_eq!(t.check(&keys(), now), Ok(()));
            let wait = Duration::from_secs(1 << n);
            assert_eq!(t.fail(&keys(), now), Some(Failure::Backoff(wait)));
            assert_eq!(t.check(&keys(), now), Err(wait));
            now += wait;
        }
        assert_eq!(t.check(&keys(), now), Ok(()));
        assert_eq!(t.fail(&keys(), now), Some(Failure::Locked));
        assert_eq!(t.check(&keys(), now), Err(LOCK_FOR));
        assert!(t.locked_until(&keys()[0], now).is_some());
        now += LOCK_FOR;
        assert_eq!(t.check(&keys(), now), Ok(()), "the lock ends");
        assert_eq!(t.fail(&keys(), now), None, "and the count starts over");
    }

    #[test]
    fn success_and_unlock_clear_the_count() {
        let mut t = Throttle::default();
        let now = Instant::now();
        for _ in 0..10 {
            t.fail(&keys(), now);
        }
        assert!(t.check(&keys(), now).is_err());
        let other = Key::Operator("other".into());
        t.fail(std::slice::from_ref(&other), now);
        t.unlock_operator("op");
        assert_eq!(t.check(&keys(), now), Ok(()));
        assert!(
            t.entries.contains_key(&other),
            "other operators keep their count"
        );
        for _ in 0..4 {
            t.fail(&keys(), now);
        }
        t.succeed(&keys());
        assert_eq!(t.fail(&keys(), now), None, "counting from zero again");
    }

    #[test]
    fn an_attempt_counts_before_its_outcome_is_known() {
        let mut t = Throttle::default();
        let now = Instant::now();
        // A burst: five pass, then everyone waits, even before any answer came back.
        let passed = (0..20).filter(|_| t.attempt(&keys(), now).is_ok()).count();
        assert_eq!(passed, 5);
        // One of them was right: its success clears the count.
        t.succeed(&keys());
        assert_eq!(t.attempt(&keys(), now), Ok(None));
    }

    #[test]
    fn the_table_stays_bounded() {
        let mut t = Throttle::default();
        let now = Instant::now();
        for i in 0..(MAX_ENTRIES as u32 + 50) {
            let addr = std::net::Ipv6Addr::from(u128::from(i));
            t.fail(&[Key::Address(addr.into())], now);
        }
        assert!(t.entries.len() <= MAX_ENTRIES);
    }

    #[test]
    fn waits_round_up() {
        assert_eq!(whole_seconds(Duration::from_millis(1999)), 2);
        assert_eq!(whole_seconds(Duration::from_secs(2)), 2);
        assert_eq!(whole_seconds(Duration::ZERO), 1);
    }

    #[test]
    fn keys_are_independent() {
        let mut t = Throttle::default();
        let now = Instant::now();
        let addr = Key::Address("192.0.2.7".parse().unwrap());
        // One address guessing many operators is locked by its address alone.
        for i in 0..10 {
            t.fail(&[Key::Operator(format!("op{i}")), addr.clone()], now);
        }
        assert!(
            t.check(&[Key::Operator("fresh".into()), addr.clone()], now)
                .is_err()
        );
        let other = Key::Address("192.0.2.8".parse().unwrap());
        assert_eq!(t.check(&[Key::Operator("op1".into()), other], now), Ok(()));
    }

    #[test]
    fn old_failures_expire() {
        let mut t = Throttle::default();
        let now = Instant::now();
        for _ in 0..4 {
            t.fail(&keys(), now);
        }
        let later = now + LOCK_FOR + Duration::from_secs(1);
        assert_eq!(t.fail(&keys(), later), None, "the count restarted");
    }
}
