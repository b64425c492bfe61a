//! libSQL, the system of record: opening the database with its durability settings and
//! bringing its schema up to date.

pub mod events;
mod migrations;
pub mod operators;
pub mod outbox;
pub mod templates;
pub mod venue_events;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Mutex, MutexGuard};

pub use migrations::{Migration, MigrationError, embedded_migrations};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open database {path}: {source}")]
    Open { path: String, source: libsql::Error },
    #[error(transparent)]
    Migration(#[from] MigrationError),
    #[error("database error: {0}")]
    Sql(#[from] libsql::Error),
}

/// The database. Cheap to clone: clones share one connection, taken in turn, so a
/// transaction never interleaves with another task's statements.
#[derive(Clone)]
pub struct Store {
    // Kept so the file stays open as long as any clone lives.
    _db: Arc<libsql::Database>,
    conn: Arc<Mutex<libsql::Connection>>,
}

impl Store {
    /// Opens (or creates) the database at `path`: WAL, `synchronous=FULL`, foreign keys
    /// on, a busy timeout; then applies pending migrations.
    pub async fn open(path: &Path, migrations: &[Migration]) -> Result<Self, StoreError> {
        let open_err = |source| StoreError::Open {
            path: path.display().to_string(),
            source,
        };
        let db = libsql::Builder::new_local(path)
            .build()
            .await
            .map_err(open_err)?;
        let conn = db.connect().map_err(open_err)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        // journal_mode answers with a row; the others answer nothing.
        let mut rows = conn.query("PRAGMA journal_mode = WAL", ()).await?;
        drop(rows.next().await?);
        drop(rows);
        conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
            .await?;
        migrations::apply(&conn, migrations).await?;
        Ok(Self {
            _db: Arc::new(db),
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// The connection, for this task alone until the guard is dropped.
    pub async fn conn(&self) -> MutexGuard<'_, libsql::Connection> {
        self.conn.lock().await
    }

    /// One round trip to the database; returns how long it took.
    pub async fn ping(&self) -> Result<Duration, StoreError> {
        let start = Instant::now();
        let conn = self.conn().await;
        let mut rows = conn.query("SELECT 1", ()).await?;
        rows.next().await?;
        Ok(start.elapsed())
    }

    /// The highest migration version recorded in the database.
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(migrations::current_version(&*self.conn().await).await?)
    }

    /// Reads one PRAGMA's value as text.
    #[cfg(test)]
    pub async fn pragma(&self, name: &str) -> Result<String, StoreError> {
        debug_assert!(name.bytes().all(|b| b.is_ascii_alphabetic() || b == b'_'));
        let conn = self.conn().await;
        let mut rows = conn.query(&format!("PRAGMA {name}"), ()).await?;
        let row = rows.next().await?;
        Ok(match row {
            Some(row) => match row.get_value(0)? {
                libsql::Value::Text(t) => t,
                libsql::Value::Integer(i) => i.to_string(),
                other => format!("{other:?}"),
            },
            None => String::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn open_sets_durability_pragmas() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("leaf.db"), &embedded_migrations())
            .await
            .unwrap();
        assert_eq!(store.pragma("journal_mode").await.unwrap(), "wal");
        assert_eq!(store.pragma("synchronous").await.unwrap(), "2"); // FULL
        assert_eq!(store.pragma("foreign_keys").await.unwrap(), "1");
        assert!(store.ping().await.is_ok());
    }
}
