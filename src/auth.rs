//! Staff access: roles, PINs, the signing key, tokens, login throttling, WebSocket
//! tickets and the first-boot setup code. Pure logic and file handling; the HTTP side
//! is in `http::auth` and `http::api::{setup, login, operators, tickets}`.

pub mod keys;
pub mod pins;
pub mod setup;
pub mod throttle;
pub mod tickets;
pub mod tokens;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// What a member of staff may do. Ordered: admin > floor > viewer.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Read-only staff views.
    Viewer,
    /// Runs tournaments.
    Floor,
    /// Setup, money corrections, operators.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Floor => "floor",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "viewer" => Some(Role::Viewer),
            "floor" => Some(Role::Floor),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// An operator (a member of staff), identified by a UUID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
pub struct OperatorId(pub Uuid);

impl OperatorId {
    pub fn new() -> Self {
        Self(Uuid::new_v4())
    }
}

impl Default for OperatorId {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Display for OperatorId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// Who is making a request, as proven by a valid token or ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staff {
    pub id: OperatorId,
    pub role: Role,
    /// The operator's token version the proof was issued under.
    pub version: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered() {
        assert!(Role::Admin > Role::Floor && Role::Floor > Role::Viewer);
        for r in [Role::Viewer, Role::Floor, Role::Admin] {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
