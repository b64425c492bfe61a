//! The `operators` table.

use crate::auth::{OperatorId, Role};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorRow {
    pub id: OperatorId,
    pub name: String,
    pub role: Role,
    pub pin_hash: String,
    pub active: bool,
    pub token_version: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    #[error("an operator with this name exists already")]
    NameTaken,
    #[error("database error: {0}")]
    Sql(#[from] libsql::Error),
}

const COLUMNS: &str = "id, name, role, pin_hash, active, token_version";

fn from_row(row: &libsql::Row) -> Result<OperatorRow, libsql::Error> {
    let id: String = row.get(0)?;
    let role: String = row.get(2)?;
    Ok(OperatorRow {
        id: OperatorId(
            id.parse()
                .map_err(|e| libsql::Error::ToSqlConversionFailure(Box::new(e)))?,
        ),
        name: row.get(1)?,
        role: Role::parse(&role).ok_or_else(|| {
            libsql::Error::ToSqlConversionFailure(format!("unknown role {role:?}").into())
        })?,
        pin_hash: row.get(3)?,
        active: row.get::<i64>(4)? != 0,
        token_version: row.get(5)?,
    })
}

/// Every operator, by name.
pub async fn list(conn: &libsql::Connection) -> Result<Vec<OperatorRow>, libsql::Error> {
    let mut rows = conn
        .query(
            &format!("SELECT {COLUMNS} FROM operators ORDER BY name COLLATE NOCASE"),
            (),
        )
        .await?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().await? {
        out.push(from_row(&row)?);
    }
    Ok(out)
}

pub async fn get(
    conn: &libsql::Connection,
    id: OperatorId,
) -> Result<Option<OperatorRow>, libsql::Error> {
    let mut rows = conn
        .query(
            &format!("SELECT {COLUMNS} FROM operators WHERE id = ?1"),
            [id.to_string()],
        )
        .await?;
    let row = rows.next().await?;
    row.map(|r| from_row(&r)).transpose()
}

pub async fn active_admins(conn: &libsql::Connection) -> Result<i64, libsql::Error> {
    let mut rows = conn
        .query(
            "SELECT COUNT(*) FROM operators WHERE role = 'admin' AND active = 1",
            (),
        )
        .await?;
    rows.next().await?.expect("COUNT returns a row").get(0)
}

fn name_taken(e: libsql::Error) -> OperatorError {
    if e.to_string()
        .contains("UNIQUE constraint failed: operators.name")
    {
        OperatorError::NameTaken
    } else {
        OperatorError::Sql(e)
    }
}

/// The row's values, in column order (`?1` … `?6`).
fn params(op: &OperatorRow) -> impl libsql::params::IntoParams {
    libsql::params![
        op.id.to_string(),
        op.name.clone(),
        op.role.as_str(),
        op.pin_hash.clone(),
        op.active as i64,
        op.token_version
    ]
}

pub async fn insert(conn: &libsql::Connection, op: &OperatorRow) -> Result<(), OperatorError> {
    conn.execute(
        "INSERT INTO operators (id, name, role, pin_hash, active, token_version) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params(op),
    )
    .await
    .map_err(name_taken)?;
    Ok(())
}

/// Writes every column of `op` (the caller bumps `token_version` when needed).
pub async fn update(conn: &libsql::Connection, op: &OperatorRow) -> Result<(), OperatorError> {
    conn.execute(
        "UPDATE operators SET name = ?2, role = ?3, pin_hash = ?4, active = ?5, \
         token_version = ?6, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1",
        params(op),
    )
    .await
    .map_err(name_taken)?;
    Ok(())
}
