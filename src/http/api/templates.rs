//! Templates: chip sets, blind structures and buy-ins, built in or saved by the venue;
//! JSON import (POST the exported JSON) and export (GET one). The structure wizard.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::engine::chips::{BuyIn, ChipSet, Rake};
use crate::engine::structure::Structure;
use crate::engine::templates::{builtin_structures, standard_chips};
use crate::engine::wizard::{self, WizardInput};
use crate::http::AppState;
use crate::http::auth::{Admin, Authed, Viewer};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::json::AppJson;
use crate::store::templates::{self as store, TemplateRow, TemplateStoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TemplateKind {
    ChipSet,
    Structure,
    BuyIn,
}

impl TemplateKind {
    fn as_str(self) -> &'static str {
        match self {
            TemplateKind::ChipSet => "chip_set",
            TemplateKind::Structure => "structure",
            TemplateKind::BuyIn => "buy_in",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
    }

    /// Checks that `body` is a valid template of this kind.
    fn validate(self, body: &serde_json::Value) -> Result<(), ApiError> {
        let bad = |message: String| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_template",
                message,
            )
        };
        let result = match self {
            TemplateKind::ChipSet => serde_json::from_value::<ChipSet>(body.clone())
                .map_err(|e| e.to_string())
                .and_then(|c| c.validate().map_err(|e| e.to_string())),
            TemplateKind::Structure => serde_json::from_value::<Structure>(body.clone())
                .map_err(|e| e.to_string())
                .and_then(|s| s.validate().map_err(|e| e.to_string())),
            TemplateKind::BuyIn => serde_json::from_value::<BuyIn>(body.clone())
                .map_err(|e| e.to_string())
                .and_then(|b| b.validate().map_err(|e| e.to_string())),
        };
        result.map_err(bad)
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Template {
    /// `builtin:<key>` for the built-in ones.
    pub id: String,
    pub kind: TemplateKind,
    pub name: String,
    pub builtin: bool,
    #[schema(value_type = Object)]
    pub body: serde_json::Value,
}

/// A template to save (also the import format).
#[derive(Debug, Deserialize, ToSchema)]
pub struct TemplateInput {
    pub kind: TemplateKind,
    pub name: String,
    #[schema(value_type = Object)]
    pub body: serde_json::Value,
}

fn builtins() -> Vec<Template> {
    let mut out = vec![Template {
        id: "builtin:standard-chips".into(),
        kind: TemplateKind::ChipSet,
        name: "Standard chips (25 to 25,000)".into(),
        builtin: true,
        body: serde_json::to_value(standard_chips()).expect("serialises"),
    }];
    for (key, name, structure, stack, amount) in builtin_structures() {
        out.push(Template {
            id: format!("builtin:{key}"),
            kind: TemplateKind::Structure,
            name: name.into(),
            builtin: true,
            body: serde_json::to_value(structure).expect("serialises"),
        });
        let buy_in = BuyIn {
            amount_cents: amount,
            starting_chips: stack,
            rake: vec![Rake {
                category: "house".into(),
                amount_cents: amount / 10,
            }],
        };
        out.push(Template {
            id: format!("builtin:{key}-buy-in"),
            kind: TemplateKind::BuyIn,
            name: format!("{} buy-in, {} chips", money(amount), stack),
            builtin: true,
            body: serde_json::to_value(buy_in).expect("serialises"),
        });
    }
    out
}

fn money(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

fn from_row(row: TemplateRow) -> Option<Template> {
    Some(Template {
        kind: TemplateKind::parse(&row.kind)?,
        body: serde_json::from_str(&row.body).ok()?,
        id: row.id,
        name: row.name,
        builtin: false,
    })
}

fn valid_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_name",
            "a template name is 1 to 80 characters",
        ));
    }
    Ok(name.to_owned())
}

fn store_error(e: TemplateStoreError) -> ApiError {
    match e {
        TemplateStoreError::NameTaken => {
            ApiError::new(StatusCode::CONFLICT, "name_taken", e.to_string())
        }
        TemplateStoreError::Sql(e) => ApiError::internal(&e),
    }
}

/// Built-in and saved templates.
#[utoipa::path(get, path = "/api/templates", tag = "templates",
    extensions(("x-min-role" = json!("viewer"))),
    security(("bearer" = [])),
    responses((status = 200, body = Vec<Template>)))]
pub async fn list(
    State(state): State<AppState>,
    _auth: Authed<Viewer>,
) -> Result<AppJson<Vec<Template>>, ApiError> {
    let saved = store::list(&*state.store.conn().await)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let mut all = builtins();
    all.extend(saved.into_iter().filter_map(from_row));
    Ok(AppJson(all))
}

/// One template, in the import format (export).
#[utoipa::path(get, path = "/api/templates/{id}", tag = "templates",
    extensions(("x-min-role" = json!("viewer"))),
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Template), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    _auth: Authed<Viewer>,
    Path(id): Path<String>,
) -> Result<AppJson<Template>, ApiError> {
    let AppJson(all) = list(State(state), _auth).await?;
    all.into_iter()
        .find(|t| t.id == id)
        .map(AppJson)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such template"))
}

/// Saves a template (also imports an exported one).
#[utoipa::path(post, path = "/api/templates", tag = "templates",
    extensions(("x-min-role" = json!("admin"))),
    security(("bearer" = [])),
    request_body = TemplateInput,
    responses((status = 201, body = Template), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    _auth: Authed<Admin>,
    AppJson(input): AppJson<TemplateInput>,
) -> Result<(StatusCode, AppJson<Template>), ApiError> {
    let name = valid_name(&input.name)?;
    input.kind.validate(&input.body)?;
    let row = TemplateRow {
        id: uuid::Uuid::new_v4().to_string(),
        kind: input.kind.as_str().into(),
        name,
        body: input.body.to_string(),
    };
    store::insert(&*state.store.conn().await, &row)
        .await
        .map_err(store_error)?;
    Ok((
        StatusCode::CREATED,
        AppJson(from_row(row).expect("just validated")),
    ))
}

#[utoipa::path(put, path = "/api/templates/{id}", tag = "templates",
    extensions(("x-min-role" = json!("admin"))),
    security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = TemplateInput,
    responses((status = 200, body = Template), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    _auth: Authed<Admin>,
    Path(id): Path<String>,
    AppJson(input): AppJson<TemplateInput>,
) -> Result<AppJson<Template>, ApiError> {
    let name = valid_name(&input.name)?;
    input.kind.validate(&input.body)?;
    let row = TemplateRow {
        id,
        kind: input.kind.as_str().into(),
        name,
        body: input.body.to_string(),
    };
    if !store::update(&*state.store.conn().await, &row)
        .await
        .map_err(store_error)?
    {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such saved template (built-in ones cannot be changed: save a copy)",
        ));
    }
    Ok(AppJson(from_row(row).expect("just validated")))
}

#[utoipa::path(delete, path = "/api/templates/{id}", tag = "templates",
    extensions(("x-min-role" = json!("admin"))),
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    _auth: Authed<Admin>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if store::delete(&*state.store.conn().await, &id)
        .await
        .map_err(|e| ApiError::internal(&e))?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such saved template",
        ))
    }
}

/// Proposes a blind structure from the field, stack, length and chips.
#[utoipa::path(post, path = "/api/structures/wizard", tag = "templates",
    extensions(("x-min-role" = json!("viewer"))),
    security(("bearer" = [])),
    request_body = WizardInput,
    responses((status = 200, body = Structure), (status = 422, body = ErrorBody)))]
pub async fn wizard(
    _auth: Authed<Viewer>,
    AppJson(input): AppJson<WizardInput>,
) -> Result<AppJson<Structure>, ApiError> {
    wizard::propose(&input).map(AppJson).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_wizard_input",
            e.to_string(),
        )
    })
}
