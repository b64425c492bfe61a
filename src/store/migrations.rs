//! Schema migrations: `migrations/NNNN_description.sql`, embedded in the binary, applied in
//! order, each in its own transaction, and recorded in `schema_migrations`.

use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "migrations/"]
struct Embedded;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    pub version: i64,
    pub name: String,
    pub sql: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    #[error(
        "the database is at schema version {database}, newer than this leaf knows ({binary}): \
         it was written by a newer version of leaf. Run that version, or restore a backup; \
         nothing was changed"
    )]
    TooNew { database: i64, binary: i64 },
    #[error(
        "migration {version} is recorded as {recorded:?} in the database but is {expected:?} \
         in this leaf: the database does not belong to this version of leaf; nothing was changed"
    )]
    Mismatch {
        version: i64,
        recorded: String,
        expected: String,
    },
    #[error("migration {version} ({name}) failed and was rolled back: {source}")]
    Failed {
        version: i64,
        name: String,
        source: libsql::Error,
    },
    #[error("migration bookkeeping failed: {0}")]
    Sql(#[from] libsql::Error),
}

/// The migrations compiled into this binary, in version order.
pub fn embedded_migrations() -> Vec<Migration> {
    let mut all: Vec<Migration> = Embedded::iter()
        .map(|file| {
            let sql = Embedded::get(&file).expect("listed file exists").data;
            let sql = String::from_utf8(sql.into_owned()).expect("migrations are UTF-8");
            parse_file_name(&file)
                .map(|(version, name)| Migration { version, name, sql })
                .unwrap_or_else(|| panic!("migration file {file:?} is not NNNN_description.sql"))
        })
        .collect();
    all.sort_by_key(|m| m.version);
    all
}

/// `0001_settings.sql` → `(1, "settings")`.
fn parse_file_name(file: &str) -> Option<(i64, String)> {
    let stem = file.strip_suffix(".sql")?;
    let (digits, name) = stem.split_once('_')?;
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) || name.is_empty() {
        return None;
    }
    Some((digits.parse().ok()?, name.to_owned()))
}

const BOOKKEEPING: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT";

pub(super) async fn current_version(conn: &libsql::Connection) -> Result<i64, libsql::Error> {
    let mut rows = conn
        .query(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            (),
        )
        .await?;
    let row = rows.next().await?.expect("an aggregate returns one row");
    row.get(0)
}

async fn recorded(conn: &libsql::Connection) -> Result<Vec<(i64, String)>, libsql::Error> {
    let mut rows = conn
        .query(
            "SELECT version, name FROM schema_migrations ORDER BY version",
            (),
        )
        .await?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().await? {
        out.push((row.get(0)?, row.get(1)?));
    }
    Ok(out)
}

/// Brings the schema up to date. A database from a newer leaf, or one whose history
/// differs from ours, is refused before anything is changed.
pub(super) async fn apply(
    conn: &libsql::Connection,
    migrations: &[Migration],
) -> Result<(), MigrationError> {
    conn.execute(BOOKKEEPING, ()).await?;
    let done = recorded(conn).await?;
    let binary = migrations.last().map_or(0, |m| m.version);
    if let Some(&(database, _)) = done.last()
        && database > binary
    {
        return Err(MigrationError::TooNew { database, binary });
    }
    for (version, name) in &done {
        match migrations.iter().find(|m| m.version == *version) {
            Some(m) if &m.name == name => {}
            other => {
                return Err(MigrationError::Mismatch {
                    version: *version,
                    recorded: name.clone(),
                    expected: other.map_or_else(|| "(none)".into(), |m| m.name.clone()),
                });
            }
        }
    }
    for m in migrations
        .iter()
        .filter(|m| !done.iter().any(|(v, _)| *v == m.version))
    {
        let failed = |source| MigrationError::Failed {
            version: m.version,
            name: m.name.clone(),
            source,
        };
        let tx = conn.transaction().await.map_err(failed)?;
        tx.execute_batch(&m.sql).await.map_err(failed)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name) VALUES (?1, ?2)",
            libsql::params![m.version, m.name.clone()],
        )
        .await
        .map_err(failed)?;
        tx.commit().await.map_err(failed)?;
        tracing::info!(version = m.version, name = %m.name, "applied migration");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Store, StoreError};

    fn m(version: i64, name: &str, sql: &str) -> Migration {
        Migration {
            version,
            name: name.into(),
            sql: sql.into(),
        }
    }

    async fn tables(store: &Store) -> Vec<String> {
        let mut rows = store
            .conn()
            .await
            .query(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
                (),
            )
            .await
            .unwrap();
        let mut out = Vec::new();
        while let Some(r) = rows.next().await.unwrap() {
            out.push(r.get::<String>(0).unwrap());
        }
        out
    }

    #[test]
    fn embedded_files_are_numbered_and_contiguous() {
        let all = embedded_migrations();
        assert!(!all.is_empty());
        for (i, mig) in all.iter().enumerate() {
            assert_eq!(mig.version, i as i64 + 1, "{} is out of sequence", mig.name);
        }
        assert_eq!(
            parse_file_name("0012_add_x.sql"),
            Some((12, "add_x".into()))
        );
        assert_eq!(parse_file_name("12_add_x.sql"), None);
        assert_eq!(parse_file_name("0012.sql"), None);
    }

    #[tokio::test]
    async fn fresh_then_repeated_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("leaf.db");
        let store = Store::open(&path, &embedded_migrations()).await.unwrap();
        let latest = embedded_migrations().last().unwrap().version;
        assert_eq!(store.schema_version().await.unwrap(), latest);
        assert!(tables(&store).await.contains(&"settings".to_string()));
        drop(store);

        let store = Store::open(&path, &embedded_migrations()).await.unwrap();
        assert_eq!(store.schema_version().await.unwrap(), latest);
        let count: i64 = {
            let mut r = store
                .conn()
                .await
                .query("SELECT COUNT(*) FROM schema_migrations", ())
                .await
                .unwrap();
            r.next().await.unwrap().unwrap().get(0).unwrap()
        };
        assert_eq!(count, latest);
    }

    #[tokio::test]
    async fn later_migrations_apply_on_an_older_database() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("leaf.db");
        let one = vec![m(1, "a", "CREATE TABLE a (x INTEGER)")];
        Store::open(&path, &one).await.unwrap();
        let two = vec![one[0].clone(), m(2, "b", "CREATE TABLE b (y INTEGER)")];
        let store = Store::open(&path, &two).await.unwrap();
        assert_eq!(store.schema_version().await.unwrap(), 2);
        assert!(tables(&store).await.contains(&"b".to_string()));
    }

    #[tokio::test]
    async fn a_newer_database_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("leaf.db");
        let newer = vec![
            m(1, "a", "CREATE TABLE a (x INTEGER)"),
            m(2, "b", "CREATE TABLE b (y INTEGER)"),
        ];
        Store::open(&path, &newer).await.unwrap();
        match Store::open(&path, &newer[..1]).await {
            Err(StoreError::Migration(MigrationError::TooNew {
                database: 2,
                binary: 1,
            })) => {}
            other => panic!("expected TooNew, got {:?}", other.err()),
        }
    }

    #[tokio::test]
    async fn a_failing_migration_is_rolled_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("leaf.db");
        let bad = vec![m(
            1,
            "half",
            "CREATE TABLE half (x INTEGER); INSERT INTO nowhere VALUES (1);",
        )];
        assert!(matches!(
            Store::open(&path, &bad).await,
            Err(StoreError::Migration(MigrationError::Failed {
                version: 1,
                ..
            }))
        ));
        let store = Store::open(&path, &[]).await.unwrap();
        assert_eq!(store.schema_version().await.unwrap(), 0);
        assert!(!tables(&store).await.contains(&"half".to_string()));
    }

    #[tokio::test]
    async fn a_different_history_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("leaf.db");
        Store::open(&path, &[m(1, "a", "CREATE TABLE a (x INTEGER)")])
            .await
            .unwrap();
        assert!(matches!(
            Store::open(&path, &[m(1, "other", "CREATE TABLE o (x INTEGER)")]).await,
            Err(StoreError::Migration(MigrationError::Mismatch {
                version: 1,
                ..
            }))
        ));
    }
}
