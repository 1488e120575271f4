//! The HTML console: server-rendered askama pages on one base layout, working without
//! JavaScript. Each page's template struct lives beside its handler.

pub mod assets;
pub mod home;
pub mod presession;
pub mod setup;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError, web};
use askama::Template;

/// What every page's layout needs, whatever the page.
#[derive(Debug, Clone)]
pub struct Layout {
    pub lang: &'static str,
}

impl Default for Layout {
    fn default() -> Layout {
        Layout { lang: "en" }
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home::show))
        .route("/healthz", web::get().to(home::healthz))
        .route("/readyz", web::get().to(home::readyz))
        .route("/setup", web::get().to(setup::show))
        .route("/setup", web::post().to(setup::submit))
        .route("/static/{file}", web::get().to(assets::serve))
        .default_service(web::to(not_found));
}

/// Renders a page with the given status. Pages are never cached by shared caches.
pub fn render(status: StatusCode, page: &impl Template) -> Result<HttpResponse, PageError> {
    let body = page.render().map_err(|e| PageError::Internal(e.to_string()))?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(body))
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    layout: Layout,
    heading: &'a str,
    message: &'a str,
}

/// Failures a page handler can end in, each shown as a page with the right status.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("not found")]
    NotFound,
    #[error("the database is unavailable")]
    Unavailable(#[from] sqlx::Error),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            PageError::NotFound => StatusCode::NOT_FOUND,
            PageError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            PageError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let (heading, message) = match self {
            PageError::NotFound => ("Page not found", "There is nothing at this address."),
            PageError::Unavailable(err) => {
                tracing::error!(error = %err, "database unavailable");
                (
                    "Temporarily unavailable",
                    "keyward cannot reach its database. Try again in a moment.",
                )
            }
            PageError::Internal(err) => {
                tracing::error!(error = %err, "internal error");
                (
                    "Something went wrong",
                    "keyward could not complete this request. Try again.",
                )
            }
        };
        let page = ErrorPage {
            layout: Layout::default(),
            heading,
            message,
        };
        let body = page.render().unwrap_or_else(|_| heading.to_owned());
        HttpResponse::build(self.status_code())
            .content_type("text/html; charset=utf-8")
            .insert_header(("Cache-Control", "no-store"))
            .body(body)
    }
}

async fn not_found() -> Result<HttpResponse, PageError> {
    Err(PageError::NotFound)
}
