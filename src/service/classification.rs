//! The lifecycle of classification levels, the one path the API (and later the console) takes:
//! each change holds the org's classification lock, checks the rule of
//! `domain::classification`, writes, and records its audit event, in one transaction.

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::Action;
use crate::domain::classification::{self, Color, LevelName, LevelStatus, LevelText, OrderProblems, Transition};
use crate::service::standing::{self, Power, StandingError};
use crate::store;
use crate::store::audit::Acting;
use crate::store::classification_levels::{Level, LevelFields};

#[derive(Debug, thiserror::Error)]
pub enum LevelError {
    /// No level with this id in the org (another org's is not found either).
    #[error("no classification level {0} in this organization")]
    NotFound(Uuid),
    /// The change does not apply to a level in this status.
    #[error("the classification level {id} is {} and cannot be {}; only a {} level can",
            .status.as_str(), .transition.verb(), .transition.from().as_str())]
    WrongStatus {
        id: Uuid,
        status: LevelStatus,
        transition: Transition,
    },
    #[error("another classification level in use is named {0:?}")]
    NameInUse(String),
    #[error("levelIds names a level more than once: {}", ids(.0))]
    Duplicated(Vec<Uuid>),
    #[error("levelIds must name at least one level")]
    NoLevels,
    #[error("levelIds must name every published level exactly once ({0})")]
    BadOrder(OrderProblems),
    /// The calling key was revoked while the request waited.
    #[error(transparent)]
    Standing(#[from] StandingError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

fn ids(ids: &[Uuid]) -> String {
    ids.iter().map(Uuid::to_string).collect::<Vec<_>>().join(", ")
}

/// What an edit changes; `None` keeps the field as it is.
#[derive(Debug, Clone, Default)]
pub struct LevelPatch {
    pub name: Option<LevelName>,
    pub description: Option<LevelText>,
    pub guideline: Option<LevelText>,
    pub color: Option<Color>,
}

async fn record(
    conn: &mut PgConnection,
    change: &Acting<'_>,
    action: Action,
    target: Option<Uuid>,
    details: serde_json::Value,
) -> Result<(), sqlx::Error> {
    let event = change.event(action, "classification_level", target.map(|id| id.to_string()), details);
    store::audit::record(conn, event).await.map(|_| ())
}

fn name_in_use(err: sqlx::Error, name: &str) -> LevelError {
    if store::violates(&err, store::classification_levels::NAME_IN_USE) {
        LevelError::NameInUse(name.to_owned())
    } else {
        err.into()
    }
}

/// The level, locked by the org's classification lock, whose status allows `transition`.
async fn level_for(
    conn: &mut PgConnection,
    org_id: Uuid,
    id: Uuid,
    transition: Transition,
) -> Result<Level, LevelError> {
    let level = store::classification_levels::get(conn, org_id, id)
        .await?
        .ok_or(LevelError::NotFound(id))?;
    if !transition.allowed(level.status) {
        return Err(LevelError::WrongStatus {
            id,
            status: level.status,
            transition,
        });
    }
    Ok(level)
}

/// A new level, always a draft.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn create(pool: &PgPool, change: &Acting<'_>, fields: &LevelFields) -> Result<Level, LevelError> {
    let mut tx = pool.begin().await?;
    standing::authorize(&mut tx, change.org_id, change.actor, Power::Change).await?;
    store::classification_levels::lock(&mut tx, change.org_id).await?;
    let level = store::classification_levels::insert(&mut tx, change.org_id, fields)
        .await
        .map_err(|e| name_in_use(e, fields.name.as_str()))?;
    let details = serde_json::json!({ "name": level.name, "color": level.color.as_str() });
    record(
        &mut tx,
        change,
        Action::ClassificationLevelCreated,
        Some(level.id),
        details,
    )
    .await?;
    tx.commit().await?;
    Ok(level)
}

/// Edits a draft in place; a published or archived level is not edited.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn edit(pool: &PgPool, change: &Acting<'_>, id: Uuid, patch: LevelPatch) -> Result<Level, LevelError> {
    let mut tx = pool.begin().await?;
    standing::authorize(&mut tx, change.org_id, change.actor, Power::Change).await?;
    store::classification_levels::lock(&mut tx, change.org_id).await?;
    let level = level_for(&mut tx, change.org_id, id, Transition::Edit).await?;
    let fields = LevelFields {
        name: patch.name.unwrap_or_else(|| LevelName::stored(level.name.clone())),
        description: patch
            .description
            .unwrap_or_else(|| LevelText::stored(level.description.clone())),
        guideline: patch
            .guideline
            .unwrap_or_else(|| LevelText::stored(level.guideline.clone())),
        color: patch.color.unwrap_or(level.color),
    };
    let updated = store::classification_levels::update(&mut tx, change.org_id, id, &fields)
        .await
        .map_err(|e| name_in_use(e, fields.name.as_str()))?;
    let details = serde_json::json!({
        "name": updated.name,
        "previous_name": level.name,
        "color": updated.color.as_str(),
    });
    record(&mut tx, change, Action::ClassificationLevelUpdated, Some(id), details).await?;
    tx.commit().await?;
    Ok(updated)
}

/// Publishes drafts, all or none, ranked after the published levels in the order given.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn publish(pool: &PgPool, change: &Acting<'_>, asked: &[Uuid]) -> Result<Vec<Level>, LevelError> {
    if asked.is_empty() {
        return Err(LevelError::NoLevels);
    }
    let repeated = classification::duplicates(asked);
    if !repeated.is_empty() {
        return Err(LevelError::Duplicated(repeated));
    }
    let mut tx = pool.begin().await?;
    standing::authorize(&mut tx, change.org_id, change.actor, Power::Change).await?;
    store::classification_levels::lock(&mut tx, change.org_id).await?;
    let found = store::classification_levels::get_many(&mut tx, change.org_id, asked).await?;
    for &id in asked {
        let level = found.iter().find(|l| l.id == id).ok_or(LevelError::NotFound(id))?;
        if !Transition::Publish.allowed(level.status) {
            return Err(LevelError::WrongStatus {
                id,
                status: level.status,
                transition: Transition::Publish,
            });
        }
    }
    let mut published = store::classification_levels::publish(&mut tx, change.org_id, asked).await?;
    published.sort_by_key(|l| l.rank);
    for level in &published {
        let details = serde_json::json!({ "name": level.name, "rank": level.rank });
        record(
            &mut tx,
            change,
            Action::ClassificationLevelPublished,
            Some(level.id),
            details,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(published)
}

/// Archives a published level; the levels ranked below it move up one.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn archive(pool: &PgPool, change: &Acting<'_>, id: Uuid) -> Result<Level, LevelError> {
    let mut tx = pool.begin().await?;
    standing::authorize(&mut tx, change.org_id, change.actor, Power::Change).await?;
    store::classification_levels::lock(&mut tx, change.org_id).await?;
    let level = level_for(&mut tx, change.org_id, id, Transition::Archive).await?;
    let archived =
        store::classification_levels::set_unranked_status(&mut tx, change.org_id, id, LevelStatus::Archived).await?;
    let rest = store::classification_levels::published_ids(&mut tx, change.org_id).await?;
    store::classification_levels::rank_in_order(&mut tx, change.org_id, &rest).await?;
    let details = serde_json::json!({ "name": level.name, "previous_rank": level.rank });
    record(&mut tx, change, Action::ClassificationLevelArchived, Some(id), details).await?;
    tx.commit().await?;
    Ok(archived)
}

/// Makes an archived level a draft again (refused while another level in use has its name).
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn restore(pool: &PgPool, change: &Acting<'_>, id: Uuid) -> Result<Level, LevelError> {
    let mut tx = pool.begin().await?;
    standing::authorize(&mut tx, change.org_id, change.actor, Power::Change).await?;
    store::classification_levels::lock(&mut tx, change.org_id).await?;
    let level = level_for(&mut tx, change.org_id, id, Transition::Restore).await?;
    let restored = store::classification_levels::set_unranked_status(&mut tx, change.org_id, id, LevelStatus::Draft)
        .await
        .map_err(|e| name_in_use(e, &level.name))?;
    let details = serde_json::json!({ "name": level.name });
    record(&mut tx, change, Action::ClassificationLevelRestored, Some(id), details).await?;
    tx.commit().await?;
    Ok(restored)
}

/// Ranks the published levels in the order given, which names each of them exactly once.
/// Answers the published levels in their new order.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn reorder(pool: &PgPool, change: &Acting<'_>, asked: &[Uuid]) -> Result<Vec<Level>, LevelError> {
    let mut tx = pool.begin().await?;
    standing::authorize(&mut tx, change.org_id, change.actor, Power::Change).await?;
    store::classification_levels::lock(&mut tx, change.org_id).await?;
    let published = store::classification_levels::published_ids(&mut tx, change.org_id).await?;
    classification::check_reorder(&published, asked).map_err(LevelError::BadOrder)?;
    store::classification_levels::rank_in_order(&mut tx, change.org_id, asked).await?;
    let details = serde_json::json!({ "previous": published, "order": asked });
    record(&mut tx, change, Action::ClassificationLevelsReordered, None, details).await?;
    let levels = store::classification_levels::list(&mut tx, change.org_id, &[LevelStatus::Published]).await?;
    tx.commit().await?;
    Ok(levels)
}
