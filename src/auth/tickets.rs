//! WebSocket tickets: a browser cannot set headers on a WebSocket, so staff trade their
//! token for a random single-use ticket, valid 30 s, that goes in the `/ws` URL.
//! Tokens never appear in URLs; a ticket is worthless once used or expired.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine;
use rand::RngCore;

use super::Staff;

pub const TICKET_LIFETIME: Duration = Duration::from_secs(30);
const MAX_OUTSTANDING: usize = 10_000;

#[derive(Default)]
pub struct Tickets {
    issued: HashMap<String, (Staff, Instant)>,
}

impl Tickets {
    pub fn issue(&mut self, staff: Staff, now: Instant) -> String {
        self.issued.retain(|_, (_, expires)| *expires > now);
        if self.issued.len() >= MAX_OUTSTANDING {
            // Far more than any venue needs: drop the oldest.
            if let Some(oldest) = self
                .issued
                .iter()
                .min_by_key(|(_, (_, e))| *e)
                .map(|(k, _)| k.clone())
            {
                self.issued.remove(&oldest);
            }
        }
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let ticket = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        self.issued
            .insert(ticket.clone(), (staff, now + TICKET_LIFETIME));
        ticket
    }

    /// The staff member a ticket was issued to, once; `None` if unknown, used or expired.
    pub fn redeem(&mut self, ticket: &str, now: Instant) -> Option<Staff> {
        let (staff, expires) = self.issued.remove(ticket)?;
        (expires > now).then_some(staff)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{OperatorId, Role};

    fn staff() -> Staff {
        Staff {
            id: OperatorId::new(),
            role: Role::Floor,
            version: 1,
        }
    }

    #[test]
    fn a_ticket_works_once() {
        let mut t = Tickets::default();
        let now = Instant::now();
        let s = staff();
        let ticket = t.issue(s.clone(), now);
        assert!(ticket.len() >= 43);
        assert_eq!(t.redeem(&ticket, now), Some(s));
        assert_eq!(t.redeem(&ticket, now), None);
        assert_eq!(t.redeem("made-up", now), None);
    }

    #[test]
    fn a_ticket_expires_after_30_seconds() {
        let mut t = Tickets::default();
        let now = Instant::now();
        let ticket = t.issue(staff(), now);
        assert_eq!(t.redeem(&ticket, now + TICKET_LIFETIME), None);
        let ticket = t.issue(staff(), now);
        assert!(
            t.redeem(&ticket, now + TICKET_LIFETIME - Duration::from_millis(1))
                .is_some()
        );
    }
}
