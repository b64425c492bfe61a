//! Identifiers that end up in NATS subjects. They are parsed and validated once, at the
//! edge; a subject is only ever built from these types, never from raw input.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};
use uuid::Uuid;

/// A tournament, identified by a UUID.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct TournamentId(Uuid);

impl TournamentId {
    pub fn new() -> Self {
        Self(Uuid::new_v4())
    }
}

impl Default for TournamentId {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "{0:?} is not a tournament id (expected a UUID such as 67e55044-10b1-426f-9247-bb680e5fe0c8)"
)]
pub struct InvalidTournamentId(pub String);

impl FromStr for TournamentId {
    type Err = InvalidTournamentId;

    /// Accepts the hyphenated UUID form only, so that one tournament has one spelling.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != 36 {
            return Err(InvalidTournamentId(s.to_owned()));
        }
        Uuid::parse_str(s)
            .map(Self)
            .map_err(|_| InvalidTournamentId(s.to_owned()))
    }
}

impl<'de> Deserialize<'de> for TournamentId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for TournamentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// The venue's short name: 1–32 characters of lower-case ASCII letters, digits and `-`,
/// starting with a letter or digit. It is one token of every NATS subject, so it can
/// never hold `.`, `*`, `>` or whitespace.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct VenueSlug(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "{0:?} is not a venue slug: use 1 to 32 characters of lower-case letters, digits and '-', starting with a letter or digit"
)]
pub struct InvalidVenueSlug(pub String);

impl VenueSlug {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for VenueSlug {
    type Err = InvalidVenueSlug;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let ok = (1..=32).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidVenueSlug(s.to_owned()))
        }
    }
}

impl<'de> Deserialize<'de> for VenueSlug {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for VenueSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tournament_id_accepts_only_hyphenated_uuids() {
        let id = TournamentId::new();
        assert_eq!(id.to_string().parse::<TournamentId>(), Ok(id));
        for bad in [
            "",
            "foo",
            "foo.>",
            "*",
            "67e5504410b1426f9247bb680e5fe0c8",
            "{67e55044-10b1-426f-9247-bb680e5fe0c8}",
            "67e55044-10b1-426f-9247-bb680e5fe0c.",
            "67e55044-10b1-426f-9247-bb680e5fe0c8.x",
        ] {
            assert!(bad.parse::<TournamentId>().is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn venue_slug_rejects_subject_metacharacters() {
        for good in ["main", "casino-9", "a", "0club"] {
            assert!(good.parse::<VenueSlug>().is_ok(), "{good:?} was refused");
        }
        for bad in [
            "",
            "-x",
            "a.b",
            "a*",
            ">",
            "a b",
            "Main",
            "caf\u{e9}",
            "a\tb",
            "abcdefghijklmnopqrstuvwxyz0123456",
        ] {
            assert!(bad.parse::<VenueSlug>().is_err(), "{bad:?} was accepted");
        }
    }
}
