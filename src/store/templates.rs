//! The `templates` table: saved chip sets, blind structures and buy-ins (JSON bodies).

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateRow {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub body: String,
}

#[derive(Debug, thiserror::Error)]
pub enum TemplateStoreError {
    #[error("a template of this kind with this name exists already")]
    NameTaken,
    #[error("database error: {0}")]
    Sql(#[from] libsql::Error),
}

fn name_taken(e: libsql::Error) -> TemplateStoreError {
    if e.to_string().contains("UNIQUE constraint failed") {
        TemplateStoreError::NameTaken
    } else {
        TemplateStoreError::Sql(e)
    }
}

pub async fn list(conn: &libsql::Connection) -> Result<Vec<TemplateRow>, libsql::Error> {
    let mut rows = conn
        .query(
            "SELECT id, kind, name, body FROM templates ORDER BY kind, name COLLATE NOCASE",
            (),
        )
        .await?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().await? {
        out.push(TemplateRow {
            id: r.get(0)?,
            kind: r.get(1)?,
            name: r.get(2)?,
            body: r.get(3)?,
        });
    }
    Ok(out)
}

pub async fn insert(conn: &libsql::Connection, t: &TemplateRow) -> Result<(), TemplateStoreError> {
    conn.execute(
        "INSERT INTO templates (id, kind, name, body) VALUES (?1, ?2, ?3, ?4)",
        libsql::params![t.id.clone(), t.kind.clone(), t.name.clone(), t.body.clone()],
    )
    .await
    .map_err(name_taken)?;
    Ok(())
}

/// Returns whether a row was changed.
pub async fn update(
    conn: &libsql::Connection,
    t: &TemplateRow,
) -> Result<bool, TemplateStoreError> {
    let n = conn
        .execute(
            "UPDATE templates SET name = ?2, body = ?3, \
             updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1 AND kind = ?4",
            libsql::params![t.id.clone(), t.name.clone(), t.body.clone(), t.kind.clone()],
        )
        .await
        .map_err(name_taken)?;
    Ok(n > 0)
}

pub async fn delete(conn: &libsql::Connection, id: &str) -> Result<bool, libsql::Error> {
    Ok(conn
        .execute("DELETE FROM templates WHERE id = ?1", [id])
        .await?
        > 0)
}
