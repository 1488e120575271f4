//! The people endpoints' routes with their org and scope check, until the endpoint table
//! registers them.

use actix_web::body::BoxBody;
use actix_web::dev::ServiceRequest;
use actix_web::middleware::{Next, from_fn};
use actix_web::{HttpMessage, Resource, Route, web};

use super::error::ApiError;
use super::{directory, manage, users};
use crate::auth::api_key::Caller;
use crate::domain::Scope;
use crate::state::AppState;

/// A JSON body that does not parse is a 400 in the errors shape.
fn json_errors() -> web::JsonConfig {
    web::JsonConfig::default()
        .error_handler(|err, _| ApiError::bad_request("ADMIN-400-24", "Invalid request body", err.to_string()).into())
}

fn resource(path: &str) -> Resource {
    web::resource(path).app_data(json_errors())
}

fn guarded(path: &str, scope: Scope, routes: Vec<Route>) -> Resource {
    let mut resource = resource(path);
    for route in routes {
        resource = resource.route(guard(scope, route));
    }
    resource
}

fn guard(scope: Scope, route: Route) -> Route {
    route.wrap(from_fn(move |req: ServiceRequest, next: Next<BoxBody>| async move {
        let verdict = {
            let state = req.app_data::<web::Data<AppState>>().cloned();
            let caller = req.extensions().get::<Caller>().cloned();
            match (state, caller) {
                (Some(state), Some(caller)) => {
                    super::authorize(&state, &caller, req.match_info().get("orgId"), Some(scope))
                }
                _ => Err(ApiError::Unauthorized("Missing or malformed API key.")),
            }
        };
        match verdict {
            Ok(()) => next.call(req).await,
            Err(err) => Ok(req.error_response(err)),
        }
    }))
}

/// Under `/admin`.
pub fn admin(cfg: &mut web::ServiceConfig) {
    use Scope::{ReadAccounts, ReadDirectories, WriteAccounts};
    cfg.service(guarded(
        "/v1/orgs/{orgId}/users",
        ReadAccounts,
        vec![web::get().to(users::list)],
    ))
    .service(guarded(
        "/v1/orgs/{orgId}/users/search",
        ReadAccounts,
        vec![web::post().to(users::search_post), web::get().to(users::search_get)],
    ))
    .service(guarded(
        "/v1/orgs/{orgId}/directory/users/{accountId}/last-active-dates",
        ReadAccounts,
        vec![web::get().to(directory::last_active_dates)],
    ))
    .service(guarded(
        "/v1/orgs/{orgId}/directory/users/{accountId}/suspend-access",
        WriteAccounts,
        vec![web::post().to(directory::suspend_access)],
    ))
    .service(guarded(
        "/v1/orgs/{orgId}/directory/users/{accountId}/restore-access",
        WriteAccounts,
        vec![web::post().to(directory::restore_access)],
    ))
    .service(guarded(
        "/v1/orgs/{orgId}/directory/users/{accountId}",
        WriteAccounts,
        vec![web::delete().to(directory::remove)],
    ))
    .service(guarded(
        "/v2/orgs/{orgId}/directories",
        ReadDirectories,
        vec![web::get().to(directory::directories)],
    ))
    .service(guarded(
        "/v2/orgs/{orgId}/directories/{directoryId}/users/count",
        ReadAccounts,
        vec![web::get().to(directory::count)],
    ))
    .service(guarded(
        "/v2/orgs/{orgId}/directories/{directoryId}/users/search",
        ReadAccounts,
        vec![web::post().to(directory::search)],
    ))
    .service(guarded(
        "/v2/orgs/{orgId}/directories/{directoryId}/users/{accountId}/suspend",
        WriteAccounts,
        vec![web::post().to(directory::suspend)],
    ))
    .service(guarded(
        "/v2/orgs/{orgId}/directories/{directoryId}/users/{accountId}/restore",
        WriteAccounts,
        vec![web::post().to(directory::restore)],
    ))
    .service(
        resource("/v2/orgs/{orgId}/directories/{directoryId}/users/{accountId}")
            .route(guard(ReadAccounts, web::get().to(directory::user)))
            .route(guard(WriteAccounts, web::delete().to(directory::remove_v2))),
    );
}

/// Under `/users`.
pub fn users_scope(cfg: &mut web::ServiceConfig) {
    use Scope::{ReadAccounts, WriteAccounts};
    cfg.service(guarded(
        "/{accountId}/manage",
        ReadAccounts,
        vec![web::get().to(manage::privileges)],
    ))
    .service(
        resource("/{accountId}/manage/profile")
            .route(guard(ReadAccounts, web::get().to(manage::profile)))
            .route(guard(WriteAccounts, web::patch().to(manage::update_profile))),
    )
    .service(guarded(
        "/{accountId}/manage/email",
        WriteAccounts,
        vec![web::put().to(manage::set_email)],
    ))
    .service(guarded(
        "/{accountId}/manage/lifecycle/disable",
        WriteAccounts,
        vec![web::post().to(manage::disable)],
    ))
    .service(guarded(
        "/{accountId}/manage/lifecycle/enable",
        WriteAccounts,
        vec![web::post().to(manage::enable)],
    ));
}
