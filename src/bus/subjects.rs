//! NATS subjects. Built only from validated ids ([`VenueSlug`], [`TournamentId`]), so no
//! input can inject a wildcard or an extra token.
//!
//! - `leaf.<venue>.t.<tournament>.audit`: every event of a tournament (stream `AUDIT`)
//! - `leaf.<venue>.t.<tournament>.state`: its latest public snapshot (stream `STATE`)
//! - `leaf.<venue>.t.<tournament>.tick`: the clock's position, live (no stream)
//! - `leaf.<venue>.audit`: venue-level events such as operator changes (stream `AUDIT`)

use crate::ids::{TournamentId, VenueSlug};

/// What a tournament subject carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Audit,
    State,
    /// The clock's position, once a second (ten times in a level's last ten seconds);
    /// core NATS only, kept by no stream.
    Tick,
}

impl Channel {
    fn token(self) -> &'static str {
        match self {
            Channel::Audit => "audit",
            Channel::State => "state",
            Channel::Tick => "tick",
        }
    }

    fn from_token(token: &str) -> Option<Self> {
        match token {
            "audit" => Some(Channel::Audit),
            "state" => Some(Channel::State),
            "tick" => Some(Channel::Tick),
            _ => None,
        }
    }

    /// Public channels may be shown to anyone, without logging in.
    pub fn is_public(self) -> bool {
        matches!(self, Channel::State | Channel::Tick)
    }
}

#[derive(Debug, Clone)]
pub struct Subjects {
    venue: VenueSlug,
}

impl Subjects {
    pub fn new(venue: VenueSlug) -> Self {
        Self { venue }
    }

    pub fn tournament(&self, id: TournamentId, channel: Channel) -> String {
        format!("leaf.{}.t.{id}.{}", self.venue, channel.token())
    }

    pub fn venue_audit(&self) -> String {
        format!("leaf.{}.audit", self.venue)
    }

    /// Matches one channel of every tournament (for stream definitions).
    pub fn all_tournaments(&self, channel: Channel) -> String {
        format!("leaf.{}.t.*.{}", self.venue, channel.token())
    }

    /// Matches every channel of every tournament (for the WebSocket hub).
    pub fn any_tournament_channel(&self) -> String {
        format!("leaf.{}.t.*.*", self.venue)
    }

    /// The tournament and channel a subject of this venue belongs to.
    pub fn parse(&self, subject: &str) -> Option<(TournamentId, Channel)> {
        let rest = subject
            .strip_prefix("leaf.")?
            .strip_prefix(self.venue.as_str())?
            .strip_prefix(".t.")?;
        let (id, channel) = rest.split_once('.')?;
        Some((id.parse().ok()?, Channel::from_token(channel)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subjects() -> Subjects {
        Subjects::new("club-7".parse().unwrap())
    }

    #[test]
    fn tournament_subjects_round_trip() {
        let s = subjects();
        let id = TournamentId::new();
        for channel in [Channel::Audit, Channel::State, Channel::Tick] {
            let subject = s.tournament(id, channel);
            assert_eq!(subject.split('.').count(), 5, "{subject}");
            assert_eq!(s.parse(&subject), Some((id, channel)));
        }
        assert_eq!(
            s.tournament(id, Channel::State),
            format!("leaf.club-7.t.{id}.state")
        );
    }

    #[test]
    fn foreign_or_malformed_subjects_do_not_parse() {
        let s = subjects();
        let id = TournamentId::new();
        for bad in [
            format!("leaf.other.t.{id}.state"),
            format!("leaf.club-7.t.{id}.secret"),
            format!("leaf.club-7.t.{id}.state.extra"),
            "leaf.club-7.t.not-a-uuid.state".to_string(),
            "leaf.club-7.audit".to_string(),
        ] {
            assert_eq!(s.parse(&bad), None, "{bad}");
        }
    }
}
