//! Session tokens: JWTs signed with HS256 and nothing else. Claims: operator id, role,
//! issued-at, expiry and the operator's token version; a version bump (PIN, role or
//! status change) revokes every token issued before it.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::keys::SigningKey;
use super::{OperatorId, Role};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: OperatorId,
    pub role: Role,
    pub iat: i64,
    pub exp: i64,
    /// The operator's token version when this token was issued.
    pub ver: i64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid or expired token")]
pub struct InvalidToken;

pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    lifetime: Duration,
}

impl Tokens {
    pub fn new(key: &SigningKey, lifetime: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "iat", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(key.bytes()).expect("a key of 32+ bytes"),
            decoding: DecodingKey::from_secret(key.bytes()).expect("a key of 32+ bytes"),
            validation,
            lifetime,
        }
    }

    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// A token for `sub`, issued at `now` (Unix seconds).
    pub fn issue(&self, sub: OperatorId, role: Role, ver: i64, now: i64) -> (String, Claims) {
        let claims = Claims {
            sub,
            role,
            iat: now,
            exp: now + self.lifetime.as_secs() as i64,
            ver,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing cannot fail");
        (token, claims)
    }

    /// Checks signature, algorithm and expiry against `now` (Unix seconds). The caller
    /// still checks the operator is active and the version current.
    pub fn verify(&self, token: &str, now: i64) -> Result<Claims, InvalidToken> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| InvalidToken)?;
        let claims = data.claims;
        // jsonwebtoken compares expiry with the system clock; compare with ours too.
        if claims.exp <= now || claims.iat > now + 60 {
            return Err(InvalidToken);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn key(byte: u8) -> SigningKey {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("secrets")).unwrap();
        let path = dir.path().join(super::super::keys::KEY_FILE);
        std::fs::write(&path, vec![byte; 48]).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .unwrap();
        super::super::keys::load(dir.path()).unwrap()
    }

    fn now() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    }

    fn b64(v: &serde_json::Value) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    }

    #[test]
    fn a_token_round_trips() {
        let tokens = Tokens::new(&key(1), Duration::from_secs(14 * 3600));
        let id = OperatorId::new();
        let (token, claims) = tokens.issue(id, Role::Floor, 3, now());
        assert_eq!(claims.exp - claims.iat, 14 * 3600);
        assert_eq!(tokens.verify(&token, now()), Ok(claims));
    }

    #[test]
    fn forged_and_expired_tokens_are_refused() {
        let tokens = Tokens::new(&key(1), Duration::from_secs(3600));
        let id = OperatorId::new();
        let t = now();
        let (good, claims) = tokens.issue(id, Role::Viewer, 1, t);
        let parts: Vec<&str> = good.split('.').collect();
        let body = serde_json::to_value(&claims).unwrap();

        // alg: none, no signature.
        let none = format!(
            "{}.{}.",
            b64(&serde_json::json!({"alg":"none","typ":"JWT"})),
            parts[1]
        );
        // Signed with another key.
        let other = Tokens::new(&key(2), Duration::from_secs(3600))
            .issue(id, Role::Admin, 1, t)
            .0;
        // An RS256 / ES256 header on our HS256 signature.
        let rs = format!(
            "{}.{}.{}",
            b64(&serde_json::json!({"alg":"RS256","typ":"JWT"})),
            parts[1],
            parts[2]
        );
        let es = format!(
            "{}.{}.{}",
            b64(&serde_json::json!({"alg":"ES256","typ":"JWT"})),
            parts[1],
            parts[2]
        );
        // The role changed after signing.
        let mut admin = body.clone();
        admin["role"] = "admin".into();
        let tampered = format!("{}.{}.{}", parts[0], b64(&admin), parts[2]);
        for (what, token) in [
            ("none", none),
            ("other key", other),
            ("rs256", rs),
            ("es256", es),
            ("tampered", tampered),
            ("garbage", "a.b.c".into()),
        ] {
            assert_eq!(tokens.verify(&token, t), Err(InvalidToken), "{what}");
        }
        // Expired.
        assert_eq!(tokens.verify(&good, t + 3600), Err(InvalidToken));
        let (old, _) = tokens.issue(id, Role::Viewer, 1, t - 7200);
        assert_eq!(tokens.verify(&old, t), Err(InvalidToken));
    }
}
