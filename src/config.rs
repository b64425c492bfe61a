//! Configuration: built-in defaults, then an optional TOML file, then `LEAF_*` environment
//! variables, then command-line flags. Everything is validated here, into typed values.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::http::Uri;
use serde::Deserialize;

use crate::ids::VenueSlug;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address the HTTP server listens on (port 0 picks a free port).
    pub listen: SocketAddr,
    /// Data directory: `leaf.db`, `nats/`, `secrets/`.
    pub data: PathBuf,
    /// The venue's slug, one token of every NATS subject.
    pub venue: VenueSlug,
    pub nats: NatsConfig,
    pub http: HttpConfig,
    pub auth: AuthConfig,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// How long a login lasts: a shift.
    pub session_hours: u64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self { session_hours: 14 }
    }
}

impl AuthConfig {
    pub fn session(&self) -> Duration {
        Duration::from_secs(self.session_hours * 3600)
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NatsConfig {
    /// Use this NATS server instead of starting one (`nats://host:port`).
    #[serde(deserialize_with = "de_nats_url")]
    pub url: Option<String>,
    /// The `nats-server` binary to start when `url` is not set.
    pub server: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Origins (`https://host[:port]`) allowed to call the API from another site.
    /// Empty: same-origin only.
    #[serde(deserialize_with = "de_origins")]
    pub cors_origins: Vec<String>,
    /// A request that takes longer than this is answered with 408.
    pub request_timeout_secs: u64,
    /// How phones reach this box (for the setup QR code). Default: `http://leaf.local`,
    /// with the port when it is not 80.
    #[serde(deserialize_with = "de_public_url")]
    pub public_url: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data: PathBuf::from("./data"),
            venue: "main".parse().expect("valid default slug"),
            nats: NatsConfig::default(),
            http: HttpConfig::default(),
            auth: AuthConfig::default(),
        }
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            cors_origins: Vec::new(),
            request_timeout_secs: 30,
            public_url: None,
        }
    }
}

impl HttpConfig {
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }
}

impl Config {
    /// How phones reach this box listening on `port` (the bound one: `listen` may say 0).
    pub fn public_url(&self, port: u16) -> String {
        self.http.public_url.clone().unwrap_or_else(|| match port {
            80 => "http://leaf.local".to_owned(),
            port => format!("http://leaf.local:{port}"),
        })
    }
}

/// Settings given on the command line; they win over everything else.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub data: Option<PathBuf>,
    pub listen: Option<SocketAddr>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("environment variable {name}: {message}")]
    Env { name: &'static str, message: String },
    #[error("http.request_timeout_secs must be between 1 and 3600, not {0}")]
    Timeout(u64),
    #[error("auth.session_hours must be between 1 and 72, not {0}")]
    Session(u64),
}

impl Config {
    /// Builds the configuration from its layers. `env` looks up an environment variable
    /// (injected so tests do not touch the process environment).
    pub fn load(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
        overrides: &Overrides,
    ) -> Result<Self, ConfigError> {
        let mut config = match file {
            Some(path) => Self::from_file(path)?,
            None => Self::default(),
        };
        config.apply_env(env)?;
        if let Some(data) = &overrides.data {
            config.data = data.clone();
        }
        if let Some(listen) = overrides.listen {
            config.listen = listen;
        }
        config.validate()?;
        Ok(config)
    }

    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let config: Self = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: describe_toml_error(&text, &e),
        })?;
        config.validate()?;
        Ok(config)
    }

    fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        fn bad(name: &'static str, message: impl ToString) -> ConfigError {
            ConfigError::Env {
                name,
                message: message.to_string(),
            }
        }
        if let Some(v) = env("LEAF_LISTEN") {
            self.listen = v.parse().map_err(|_| {
                bad(
                    "LEAF_LISTEN",
                    format!("{v:?} is not an address such as 127.0.0.1:8080"),
                )
            })?;
        }
        if let Some(v) = env("LEAF_DATA") {
            self.data = PathBuf::from(v);
        }
        if let Some(v) = env("LEAF_VENUE") {
            self.venue = v.parse().map_err(|e| bad("LEAF_VENUE", e))?;
        }
        if let Some(v) = env("LEAF_NATS_URL") {
            self.nats.url = Some(parse_nats_url(&v).map_err(|e| bad("LEAF_NATS_URL", e))?);
        }
        if let Some(v) = env("LEAF_NATS_SERVER") {
            self.nats.server = Some(PathBuf::from(v));
        }
        if let Some(v) = env("LEAF_CORS_ORIGINS") {
            self.http.cors_origins = v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(parse_origin)
                .collect::<Result<_, _>>()
                .map_err(|e| bad("LEAF_CORS_ORIGINS", e))?;
        }
        Ok(())
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let t = self.http.request_timeout_secs;
        if !(1..=3600).contains(&t) {
            return Err(ConfigError::Timeout(t));
        }
        let h = self.auth.session_hours;
        if !(1..=72).contains(&h) {
            return Err(ConfigError::Session(h));
        }
        Ok(())
    }
}

/// A TOML error with the line and column, and the offending line quoted.
fn describe_toml_error(text: &str, e: &toml::de::Error) -> String {
    let message = e.message().trim_end().to_owned();
    let Some(span) = e.span() else {
        return message;
    };
    let before = &text[..span.start.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    let quoted = text.lines().nth(line - 1).unwrap_or("").trim_end();
    format!("line {line}, column {column}: {message}\n    {quoted}")
}

fn parse_nats_url(s: &str) -> Result<String, String> {
    s.parse::<async_nats::ServerAddr>()
        .map(|_| s.to_owned())
        .map_err(|e| {
            format!("{s:?} is not a NATS server address such as nats://127.0.0.1:4222 ({e})")
        })
}

/// Normalises `https://host[:port]` (a trailing `/` allowed) to `https://host[:port]`.
fn parse_origin(s: &str) -> Result<String, String> {
    let err = || format!("{s:?} is not an origin such as https://tv.example.com:8443");
    let uri: Uri = s.parse().map_err(|_| err())?;
    let scheme = uri.scheme_str().ok_or_else(err)?.to_ascii_lowercase();
    let authority = uri.authority().ok_or_else(err)?;
    let path_ok = matches!(uri.path(), "" | "/") && uri.query().is_none();
    if !matches!(scheme.as_str(), "http" | "https") || !path_ok || authority.as_str().contains('@')
    {
        return Err(err());
    }
    Ok(format!(
        "{scheme}://{}",
        authority.as_str().to_ascii_lowercase()
    ))
}

fn de_nats_url<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(d)?
        .map(|s| parse_nats_url(&s))
        .transpose()
        .map_err(serde::de::Error::custom)
}

fn de_public_url<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(d)?
        .map(|s| parse_origin(&s))
        .transpose()
        .map_err(serde::de::Error::custom)
}

fn de_origins<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Vec::<String>::deserialize(d)?
        .iter()
        .map(|s| parse_origin(s))
        .collect::<Result<_, _>>()
        .map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    fn write(text: &str) -> tempfile::NamedTempFile {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), text).unwrap();
        f
    }

    #[test]
    fn defaults_are_for_development() {
        let c = Config::load(None, env(&[]), &Overrides::default()).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.data, PathBuf::from("./data"));
        assert_eq!(c.venue.as_str(), "main");
        assert!(c.nats.url.is_none());
        assert!(c.http.cors_origins.is_empty());
    }

    #[test]
    fn layers_apply_in_order_file_env_flags() {
        let f = write(
            "listen = \"0.0.0.0:80\"\ndata = \"/file\"\nvenue = \"file-venue\"\n[http]\nrequest_timeout_secs = 5\n",
        );
        let c = Config::load(
            Some(f.path()),
            env(&[("LEAF_DATA", "/env"), ("LEAF_VENUE", "env-venue")]),
            &Overrides {
                data: Some("/flag".into()),
                listen: None,
            },
        )
        .unwrap();
        assert_eq!(c.listen.to_string(), "0.0.0.0:80"); // file
        assert_eq!(c.venue.as_str(), "env-venue"); // env over file
        assert_eq!(c.data, PathBuf::from("/flag")); // flag over env
        assert_eq!(c.http.request_timeout_secs, 5);
    }

    #[test]
    fn bad_file_names_line_and_key() {
        let f = write("listen = \"127.0.0.1:8080\"\nvenue = \"Main Room\"\n");
        let e = Config::from_file(f.path()).unwrap_err().to_string();
        assert!(e.contains("line 2"), "{e}");
        assert!(e.contains("not a venue slug"), "{e}");

        let f = write("[nats]\nurll = \"nats://x\"\n");
        let e = Config::from_file(f.path()).unwrap_err().to_string();
        assert!(
            e.contains("line 2") && e.contains("unknown field `urll`"),
            "{e}"
        );

        let f = write("[http]\ncors_origins = [\"https://ok.example\", \"ftp://x\"]\n");
        let e = Config::from_file(f.path()).unwrap_err().to_string();
        assert!(e.contains("ftp://x"), "{e}");

        let f = write("[http]\nrequest_timeout_secs = 0\n");
        let e = Config::from_file(f.path()).unwrap_err().to_string();
        assert!(e.contains("request_timeout_secs"), "{e}");
    }

    #[test]
    fn bad_env_names_the_variable() {
        let e = Config::load(None, env(&[("LEAF_LISTEN", "nope")]), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("LEAF_LISTEN"), "{e}");
    }

    #[test]
    fn origins_are_normalised() {
        assert_eq!(
            parse_origin("HTTPS://TV.Example:8443/").unwrap(),
            "https://tv.example:8443"
        );
        for bad in [
            "tv.example",
            "https://tv.example/path",
            "https://u@tv.example",
            "null",
        ] {
            assert!(parse_origin(bad).is_err(), "{bad}");
        }
    }
}
