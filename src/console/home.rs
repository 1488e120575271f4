//! The front page and the health probes.

use crate::console::urls::Site;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::session::{SignedIn, Viewer};
use super::{Layout, PageError, orgs, render};
use crate::state::AppState;
use crate::store;

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
}

/// Before first-run setup, how to open the setup link; afterwards, to the signed-in user's org
/// (or the selection screen), or to sign in.
pub async fn show(state: web::Data<AppState>, viewer: Viewer) -> Result<HttpResponse, PageError> {
    let needs_setup = {
        let mut conn = state.pool.acquire().await?;
        !store::users::any_exist(&mut conn).await?
    };
    if needs_setup {
        return render(
            StatusCode::OK,
            &HomePage {
                layout: Layout::new(viewer.lang),
            },
        );
    }
    let to = match viewer.session {
        Some(session) => {
            orgs::landing(
                &state,
                &SignedIn {
                    lang: viewer.lang,
                    session,
                },
            )
            .await?
        }
        None => Site.login().to_string(),
    };
    Ok(HttpResponse::SeeOther().insert_header(("Location", to)).finish())
}

/// The process is up.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// The database answers; 503 otherwise. The revocation listener's state is reported but does
/// not fail readiness: while it reconnects, per-request reads keep the instance correct.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let listener = if state
        .metrics
        .listener_healthy
        .load(std::sync::atomic::Ordering::Relaxed)
        == 1
    {
        "healthy"
    } else {
        "reconnecting"
    };
    let answered = tokio::time::timeout(std::time::Duration::from_secs(2), async {
        let mut conn = state.pool.acquire().await?;
        sqlx::query_scalar!("SELECT 1 AS \"one!\"").fetch_one(&mut *conn).await
    })
    .await;
    match answered {
        Ok(Ok(_)) => HttpResponse::Ok().json(serde_json::json!({ "database": "ok", "revocation_listener": listener })),
        _ => HttpResponse::ServiceUnavailable()
            .json(serde_json::json!({ "database": "unavailable", "revocation_listener": listener })),
    }
}
