//! The JWT signing key: `<data>/secrets/jwt.key`, random bytes from the OS written once
//! at first boot (temporary file, fsync, link into place, directory fsync, mode 0600)
//! and never rewritten. A bad key file stops start-up with what is wrong and the fix.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rand::TryRngCore;

pub const KEY_FILE: &str = "secrets/jwt.key";
pub const MIN_KEY_BYTES: usize = 32;
const NEW_KEY_BYTES: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "the signing key {path} holds {len} bytes, fewer than the {MIN_KEY_BYTES} required. \
         If no tokens need to survive, delete it and run `leaf provision` to make a new one"
    )]
    TooShort { path: PathBuf, len: usize },
    #[error(
        "the signing key {path} can be read by group or others (mode {mode:o}). \
         Fix it with `chmod 600 {path}`"
    )]
    Exposed { path: PathBuf, mode: u32 },
    #[error(
        "cannot read the signing key {path}: {source}. Check that it belongs to the user \
         leaf runs as (chown) and is readable by it (chmod 600)"
    )]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write the signing key {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The signing key's bytes. Never printed.
pub struct SigningKey(Vec<u8>);

impl SigningKey {
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({} bytes)", self.0.len())
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum Provisioned {
    Created,
    AlreadyThere,
}

pub fn key_path(data: &Path) -> PathBuf {
    data.join(KEY_FILE)
}

/// Creates the data directory layout and the key, unless the key exists already.
pub fn provision(data: &Path) -> Result<Provisioned, KeyError> {
    let path = key_path(data);
    let write_err = |source| KeyError::Write {
        path: path.clone(),
        source,
    };
    let secrets = path.parent().expect("the key file is in a directory");
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(secrets)
        .map_err(write_err)?;
    if path.symlink_metadata().is_ok() {
        return Ok(Provisioned::AlreadyThere);
    }
    let mut key = vec![0u8; NEW_KEY_BYTES];
    rand::rngs::OsRng
        .try_fill_bytes(&mut key)
        .map_err(|e| write_err(std::io::Error::other(e)))?;
    let tmp = secrets.join(format!(".jwt.key.{}.tmp", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(write_err)?;
    file.write_all(&key).map_err(write_err)?;
    file.sync_all().map_err(write_err)?;
    drop(file);
    // A hard link never replaces an existing file (unlike rename): if another process
    // provisioned meanwhile, its key stays.
    let linked = std::fs::hard_link(&tmp, &path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Ok(Provisioned::AlreadyThere);
        }
        Err(e) => return Err(write_err(e)),
    }
    std::fs::File::open(secrets)
        .and_then(|dir| dir.sync_all())
        .map_err(write_err)?;
    Ok(Provisioned::Created)
}

/// Reads and checks the key.
pub fn load(data: &Path) -> Result<SigningKey, KeyError> {
    let path = key_path(data);
    let unreadable = |source| KeyError::Unreadable {
        path: path.clone(),
        source,
    };
    let meta = std::fs::metadata(&path).map_err(unreadable)?;
    let mode = meta.mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyError::Exposed { path, mode });
    }
    let bytes = std::fs::read(&path).map_err(unreadable)?;
    if bytes.len() < MIN_KEY_BYTES {
        return Err(KeyError::TooShort {
            path,
            len: bytes.len(),
        });
    }
    debug_assert_eq!(meta.permissions().mode() & 0o077, 0);
    Ok(SigningKey(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provision_writes_once_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        assert_eq!(provision(&data).unwrap(), Provisioned::Created);
        let path = key_path(&data);
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(meta.mode() & 0o777, 0o600);
        assert_eq!(
            std::fs::metadata(path.parent().unwrap()).unwrap().mode() & 0o777,
            0o700
        );
        let first = std::fs::read(&path).unwrap();
        assert_eq!(first.len(), NEW_KEY_BYTES);
        assert_eq!(provision(&data).unwrap(), Provisioned::AlreadyThere);
        assert_eq!(std::fs::read(&path).unwrap(), first, "never rewritten");
        assert_eq!(load(&data).unwrap().bytes(), first.as_slice());
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, vec![std::ffi::OsString::from("jwt.key")]);
    }

    #[test]
    fn bad_keys_are_refused_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path();
        provision(data).unwrap();
        let path = key_path(data);

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = load(data).unwrap_err();
        assert!(matches!(e, KeyError::Exposed { mode: 0o644, .. }), "{e}");
        assert!(e.to_string().contains("chmod 600"));

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::write(&path, [7u8; 16]).unwrap();
        let e = load(data).unwrap_err();
        assert!(matches!(e, KeyError::TooShort { len: 16, .. }), "{e}");

        std::fs::remove_file(&path).unwrap();
        let e = load(data).unwrap_err();
        assert!(matches!(e, KeyError::Unreadable { .. }), "{e}");
    }
}
