//! First boot: while no admin exists, leaf holds a one-time setup code. It is printed in
//! the log and shown on the kiosk (loopback clients only); the first admin is created
//! with it, and then it is gone.

use rand::Rng;

/// No 0/O, 1/I/L: easy to read off a screen across the room and type on a phone.
const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

#[derive(Debug, Default)]
pub struct SetupCode {
    code: Option<String>,
}

impl SetupCode {
    /// A fresh code: 8 characters from 31 (about 40 bits), shown as `ABCD-EFGH`.
    pub fn generate() -> Self {
        let mut rng = rand::rng();
        let chars: String = (0..8)
            .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
            .collect();
        Self {
            code: Some(format!("{}-{}", &chars[..4], &chars[4..])),
        }
    }

    pub fn current(&self) -> Option<&str> {
        self.code.as_deref()
    }

    /// Whether `typed` is the code (case, spaces and dashes do not matter); compared in
    /// constant time.
    pub fn matches(&self, typed: &str) -> bool {
        let Some(code) = &self.code else { return false };
        let norm = |s: &str| -> Vec<u8> {
            s.bytes()
                .filter(|b| !matches!(b, b'-' | b' '))
                .map(|b| b.to_ascii_uppercase())
                .collect()
        };
        let (a, b) = (norm(code), norm(typed));
        a.len() == b.len() && a.iter().zip(&b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }

    /// The code is used up: the first admin exists.
    pub fn consume(&mut self) {
        self.code = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_matches_loosely_once() {
        let mut s = SetupCode::generate();
        let code = s.current().unwrap().to_owned();
        assert_eq!(code.len(), 9);
        assert!(s.matches(&code));
        assert!(s.matches(&code.to_lowercase().replace('-', " ")));
        assert!(!s.matches("ABCD-EFG"));
        assert!(!s.matches(""));
        s.consume();
        assert!(!s.matches(&code));
        assert!(!SetupCode::default().matches(&code));
    }

    #[test]
    fn codes_differ() {
        let a = SetupCode::generate();
        let b = SetupCode::generate();
        assert_ne!(a.current(), b.current());
    }
}
