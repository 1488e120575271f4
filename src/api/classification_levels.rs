//! Classification levels API (`/admin/dlp/v1/orgs/{orgId}/classification-levels`): list, get,
//! create (a draft), edit (drafts only), publish, archive, restore and reorder. Bodies arrive
//! bare or wrapped in `{"data": ...}`; a field of the wrong kind is a 400 naming it.

use actix_web::{HttpRequest, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::error::ApiError;
use super::reply::Reply;
use crate::auth::api_key::Caller;
use crate::domain::actor::Actor;
use crate::domain::classification::{Color, LevelName, LevelStatus, LevelText};
use crate::service::classification::{self, LevelError, LevelPatch};
use crate::state::AppState;
use crate::store;
use crate::store::audit::Acting;
use crate::store::classification_levels::{Level, LevelFields};

/// A classification level.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LevelItem {
    pub id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub guideline: Option<String>,
    pub color: LevelColor,
    pub status: LevelStatusName,
    /// The order of published levels, 1 the most sensitive; null unless published.
    pub rank: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// `{"data": [level]}`: published levels by rank, then drafts, then archived levels.
#[derive(Serialize, ToSchema)]
pub struct LevelList {
    pub data: Vec<LevelItem>,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LevelColor {
    Red,
    RedBold,
    Orange,
    Yellow,
    YellowBold,
    Green,
    Blue,
    BlueBold,
    Navy,
    Teal,
    Purple,
    Grey,
    Lime,
}

impl From<Color> for LevelColor {
    fn from(color: Color) -> LevelColor {
        match color {
            Color::Red => LevelColor::Red,
            Color::RedBold => LevelColor::RedBold,
            Color::Orange => LevelColor::Orange,
            Color::Yellow => LevelColor::Yellow,
            Color::YellowBold => LevelColor::YellowBold,
            Color::Green => LevelColor::Green,
            Color::Blue => LevelColor::Blue,
            Color::BlueBold => LevelColor::BlueBold,
            Color::Navy => LevelColor::Navy,
            Color::Teal => LevelColor::Teal,
            Color::Purple => LevelColor::Purple,
            Color::Grey => LevelColor::Grey,
            Color::Lime => LevelColor::Lime,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LevelStatusName {
    Draft,
    Published,
    Archived,
}

impl From<LevelStatus> for LevelStatusName {
    fn from(status: LevelStatus) -> LevelStatusName {
        match status {
            LevelStatus::Draft => LevelStatusName::Draft,
            LevelStatus::Published => LevelStatusName::Published,
            LevelStatus::Archived => LevelStatusName::Archived,
        }
    }
}

impl From<Level> for LevelItem {
    fn from(level: Level) -> LevelItem {
        LevelItem {
            id: level.id,
            name: level.name,
            description: level.description,
            guideline: level.guideline,
            color: level.color.into(),
            status: level.status.into(),
            rank: level.rank,
            created_at: level.created_at,
            updated_at: level.updated_at,
        }
    }
}

fn list_of(levels: Vec<Level>) -> LevelList {
    LevelList {
        data: levels.into_iter().map(LevelItem::from).collect(),
    }
}

/// The list's query.
#[derive(Debug, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LevelsQuery {
    /// `draft`, `published` or `archived`, repeated or comma-joined: levels in any of them
    /// (all levels when absent).
    #[param(required = false, explode = true)]
    pub status: Vec<String>,
}

/// A new level (bare, or as `{"data": {...}}`).
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewLevel {
    /// 1 to 100 characters after trimming; unique among the org's drafts and published levels,
    /// whatever the case.
    #[schema(required = true, value_type = String)]
    pub name: Option<String>,
    /// At most 1,000 characters.
    pub description: Option<String>,
    /// How to handle data of this level; at most 5,000 characters.
    pub guideline: Option<String>,
    /// One of the colours of `LevelItem.color` (any case); GREY when absent.
    pub color: Option<String>,
}

/// An edit of a draft (bare, or as `{"data": {...}}`): the fields given change, the others
/// stay; a null or empty description or guideline removes it.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LevelEdit {
    pub name: Option<String>,
    pub description: Option<String>,
    pub guideline: Option<String>,
    pub color: Option<String>,
}

/// `{"levelIds": [...]}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LevelIds {
    pub level_ids: Vec<Uuid>,
}

/// `{"levelId": ...}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LevelRef {
    pub level_id: Uuid,
}

/// The answer for an unknown level and another org's alike.
pub fn level_not_found() -> ApiError {
    ApiError::not_found(
        "ADMIN-404-1",
        "Classification level not found",
        "No classification level with this id in this organization.",
    )
}

fn bad_body(detail: impl Into<String>) -> ApiError {
    ApiError::bad_request("ADMIN-400-24", "Invalid request body", detail)
}

impl From<LevelError> for ApiError {
    fn from(err: LevelError) -> ApiError {
        match err {
            LevelError::NotFound(_) => level_not_found(),
            LevelError::WrongStatus { .. } => ApiError::conflict("ADMIN-409-3", "Wrong level status", err.to_string()),
            LevelError::NameInUse(_) => ApiError::conflict("ADMIN-409-4", "Level name in use", err.to_string()),
            LevelError::Duplicated(_) | LevelError::NoLevels | LevelError::BadOrder(_) => bad_body(err.to_string()),
            LevelError::Standing(standing) => standing.into(),
            LevelError::Database(db) => db.into(),
        }
    }
}

/// The body's object: `{"data": {...}}` unwrapped, a bare object as it is.
fn object(body: Value) -> Result<Map<String, Value>, ApiError> {
    match body {
        Value::Object(mut outer) => match (outer.len(), outer.remove("data")) {
            (1, Some(Value::Object(inner))) => Ok(inner),
            (_, Some(data)) => {
                outer.insert("data".into(), data);
                Ok(outer)
            }
            (_, None) => Ok(outer),
        },
        _ => Err(bad_body("The body must be a JSON object.")),
    }
}

/// A text field: absent (`None`), null (`Some(None)`) or a string.
fn text_field(body: &Map<String, Value>, name: &str) -> Result<Option<Option<String>>, ApiError> {
    match body.get(name) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(text)) => Ok(Some(Some(text.clone()))),
        Some(_) => Err(bad_body(format!("{name} must be a string."))),
    }
}

fn level_id(value: &Value, name: &str) -> Result<Uuid, ApiError> {
    value
        .as_str()
        .and_then(|s| s.trim().parse().ok())
        .ok_or_else(|| bad_body(format!("{name} must be a classification level id (a UUID).")))
}

fn ids_field(body: &Map<String, Value>) -> Result<Vec<Uuid>, ApiError> {
    match body.get("levelIds") {
        Some(Value::Array(values)) => values
            .iter()
            .enumerate()
            .map(|(i, v)| level_id(v, &format!("levelIds[{i}]")))
            .collect(),
        None | Some(Value::Null) => Err(bad_body("levelIds is required.")),
        Some(_) => Err(bad_body("levelIds must be an array of classification level ids.")),
    }
}

fn id_field(body: &Map<String, Value>) -> Result<Uuid, ApiError> {
    match body.get("levelId") {
        None | Some(Value::Null) => Err(bad_body("levelId is required.")),
        Some(value) => level_id(value, "levelId"),
    }
}

fn name(text: &str) -> Result<LevelName, ApiError> {
    LevelName::parse(text).map_err(|e| bad_body(format!("name {e}.")))
}

fn long_text(field: &str, text: Option<&str>, max: usize) -> Result<LevelText, ApiError> {
    LevelText::parse(text, max).map_err(|e| bad_body(format!("{field} {e}.")))
}

fn color(text: &str) -> Result<Color, ApiError> {
    Color::parse(text).map_err(|e| bad_body(format!("color {e}.")))
}

fn change<'a>(caller: &Caller, origin: &'a crate::store::audit::Origin) -> Acting<'a> {
    Acting {
        org_id: caller.org_id,
        actor: Actor::Key(caller.key_id),
        origin,
    }
}

fn path_level(id: &str) -> Result<Uuid, ApiError> {
    id.parse().map_err(|_| level_not_found())
}

/// `GET .../classification-levels`.
pub async fn list(state: web::Data<AppState>, caller: Caller, req: HttpRequest) -> Result<Reply<LevelList>, ApiError> {
    let mut statuses = Vec::new();
    for (key, value) in url::form_urlencoded::parse(req.query_string().as_bytes()) {
        if key != "status" {
            continue;
        }
        for name in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let status = LevelStatus::parse(name).ok_or_else(|| {
                ApiError::bad_request(
                    "ADMIN-400-24",
                    "Invalid status",
                    format!("status {name:?} is not one of draft, published, archived."),
                )
            })?;
            if !statuses.contains(&status) {
                statuses.push(status);
            }
        }
    }
    let mut conn = state.pool.acquire().await?;
    let levels = store::classification_levels::list(&mut conn, caller.org_id, &statuses).await?;
    Ok(Reply::ok(list_of(levels)))
}

/// `GET .../classification-levels/{levelId}`.
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<Reply<LevelItem>, ApiError> {
    let id = path_level(&path.1)?;
    let mut conn = state.pool.acquire().await?;
    let level = store::classification_levels::get(&mut conn, caller.org_id, id)
        .await?
        .ok_or_else(level_not_found)?;
    Ok(Reply::ok(level.into()))
}

/// `POST .../classification-levels`: a new draft.
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: web::Json<Value>,
) -> Result<Reply<LevelItem>, ApiError> {
    let body = object(body.into_inner())?;
    let fields = LevelFields {
        name: match text_field(&body, "name")? {
            Some(Some(text)) => name(&text)?,
            _ => return Err(bad_body("name is required.")),
        },
        description: long_text(
            "description",
            text_field(&body, "description")?.flatten().as_deref(),
            LevelText::DESCRIPTION_MAX,
        )?,
        guideline: long_text(
            "guideline",
            text_field(&body, "guideline")?.flatten().as_deref(),
            LevelText::GUIDELINE_MAX,
        )?,
        color: match text_field(&body, "color")?.flatten() {
            Some(text) => color(&text)?,
            None => Color::DEFAULT,
        },
    };
    let origin = super::origin(&caller, &req);
    let level = classification::create(&state.pool, &change(&caller, &origin), &fields).await?;
    Ok(Reply::created(level.into()))
}

/// `PUT .../classification-levels/{levelId}`: edits a draft.
pub async fn edit(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    req: HttpRequest,
    body: web::Json<Value>,
) -> Result<Reply<LevelItem>, ApiError> {
    let id = path_level(&path.1)?;
    let body = object(body.into_inner())?;
    let patch = LevelPatch {
        name: match text_field(&body, "name")? {
            None => None,
            Some(None) => return Err(bad_body("name may not be null.")),
            Some(Some(text)) => Some(name(&text)?),
        },
        description: text_field(&body, "description")?
            .map(|text| long_text("description", text.as_deref(), LevelText::DESCRIPTION_MAX))
            .transpose()?,
        guideline: text_field(&body, "guideline")?
            .map(|text| long_text("guideline", text.as_deref(), LevelText::GUIDELINE_MAX))
            .transpose()?,
        color: match text_field(&body, "color")? {
            None => None,
            Some(None) => return Err(bad_body("color may not be null.")),
            Some(Some(text)) => Some(color(&text)?),
        },
    };
    let origin = super::origin(&caller, &req);
    let level = classification::edit(&state.pool, &change(&caller, &origin), id, patch).await?;
    Ok(Reply::ok(level.into()))
}

/// `POST .../classification-levels/publish` `{"levelIds": [...]}`: answers the levels published.
pub async fn publish(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: web::Json<Value>,
) -> Result<Reply<LevelList>, ApiError> {
    let ids = ids_field(&object(body.into_inner())?)?;
    let origin = super::origin(&caller, &req);
    let levels = classification::publish(&state.pool, &change(&caller, &origin), &ids).await?;
    Ok(Reply::ok(list_of(levels)))
}

/// `POST .../classification-levels/archive` `{"levelId"}`: answers the archived level.
pub async fn archive(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: web::Json<Value>,
) -> Result<Reply<LevelItem>, ApiError> {
    let id = id_field(&object(body.into_inner())?)?;
    let origin = super::origin(&caller, &req);
    let level = classification::archive(&state.pool, &change(&caller, &origin), id).await?;
    Ok(Reply::ok(level.into()))
}

/// `POST .../classification-levels/restore` `{"levelId"}`: answers the level, a draft again.
pub async fn restore(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: web::Json<Value>,
) -> Result<Reply<LevelItem>, ApiError> {
    let id = id_field(&object(body.into_inner())?)?;
    let origin = super::origin(&caller, &req);
    let level = classification::restore(&state.pool, &change(&caller, &origin), id).await?;
    Ok(Reply::ok(level.into()))
}

/// `POST .../classification-levels/reorder` `{"levelIds": [...]}`: answers the published
/// levels in their new order.
pub async fn reorder(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: web::Json<Value>,
) -> Result<Reply<LevelList>, ApiError> {
    let ids = ids_field(&object(body.into_inner())?)?;
    let origin = super::origin(&caller, &req);
    let levels = classification::reorder(&state.pool, &change(&caller, &origin), &ids).await?;
    Ok(Reply::ok(list_of(levels)))
}
