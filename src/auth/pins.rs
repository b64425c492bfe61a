//! PINs: 4 to 8 digits (admins at least 6), stored only as argon2id hashes.

use std::sync::LazyLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Argon2, password_hash::rand_core::OsRng};

use super::Role;

/// A PIN that passed validation. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Pin(String);

impl std::fmt::Debug for Pin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pin(****)")
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PinError {
    #[error("a PIN is 4 to 8 digits")]
    Format,
    #[error("an admin's PIN is at least 6 digits")]
    TooShortForAdmin,
}

impl Pin {
    /// Validates a PIN for an operator with `role`.
    pub fn parse(text: &str, role: Role) -> Result<Self, PinError> {
        if !(4..=8).contains(&text.len()) || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PinError::Format);
        }
        if role == Role::Admin && text.len() < 6 {
            return Err(PinError::TooShortForAdmin);
        }
        Ok(Self(text.to_owned()))
    }

    /// A PIN typed at login: only its shape is checked (the role is not known yet).
    pub fn attempt(text: &str) -> Option<Self> {
        Self::parse(text, Role::Viewer).ok()
    }

    /// The argon2id hash (PHC string) with a fresh salt. Slow by design: call it from a
    /// blocking thread.
    pub fn hash(&self) -> String {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(self.0.as_bytes(), &salt)
            .expect("argon2 with default parameters hashes any PIN")
            .to_string()
    }

    /// Whether this PIN matches `hash`. Slow by design: call it from a blocking thread.
    pub fn verify(&self, hash: &str) -> bool {
        PasswordHash::new(hash).is_ok_and(|h| {
            Argon2::default()
                .verify_password(self.0.as_bytes(), &h)
                .is_ok()
        })
    }
}

/// A hash no PIN matches (it hashes a non-digit string), verified against when the operator does not exist, so a
/// wrong name costs the same time as a wrong PIN.
pub static DECOY_HASH: LazyLock<String> = LazyLock::new(|| Pin("not-digits".into()).hash());

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_are_4_to_8_digits_and_admins_need_6() {
        assert!(Pin::parse("1234", Role::Floor).is_ok());
        assert!(Pin::parse("12345678", Role::Viewer).is_ok());
        for bad in ["123", "123456789", "12a4", "", " 1234", "１２３４"] {
            assert_eq!(
                Pin::parse(bad, Role::Floor),
                Err(PinError::Format),
                "{bad:?}"
            );
        }
        assert_eq!(
            Pin::parse("12345", Role::Admin),
            Err(PinError::TooShortForAdmin)
        );
        assert!(Pin::parse("123456", Role::Admin).is_ok());
        assert_eq!(
            format!("{:?}", Pin::parse("1234", Role::Floor).unwrap()),
            "Pin(****)"
        );
    }

    #[test]
    fn hashes_verify_only_the_right_pin() {
        let pin = Pin::parse("2468", Role::Floor).unwrap();
        let hash = pin.hash();
        assert!(hash.starts_with("$argon2id$"));
        assert!(!hash.contains("2468"));
        assert!(pin.verify(&hash));
        assert!(!Pin::parse("2469", Role::Floor).unwrap().verify(&hash));
        assert_ne!(hash, pin.hash(), "salted");
        assert!(!pin.verify(&DECOY_HASH));
        assert!(!pin.verify("not a hash"));
    }
}
