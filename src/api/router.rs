//! The admin API's routes, made from the endpoint table. Each keyed resource carries the guard of
//! its routes, attached where they are registered, so no handler can forget its scope or its org:
//! steps 5 and 6 of the key middleware (DESIGN.md section 5) run here for every endpoint.

use std::collections::BTreeMap;
use std::future::{Ready, ready};
use std::rc::Rc;

use actix_web::body::BoxBody;
use actix_web::dev::{Service, ServiceFactory, ServiceRequest, ServiceResponse, Transform};
use actix_web::{Error, HttpMessage, HttpResponse, ResponseError, web};
use futures_util::future::{Either, LocalBoxFuture};

use super::endpoints::{Access, ENDPOINTS, Endpoint};
use super::error::ApiError;
use super::middleware::{KeyedRequest, RequireKey};
use super::plain_text;
use crate::auth::api_key::Caller;
use crate::domain::Scope;

/// The prefixes under which keyed endpoints live; each is one scope behind the key middleware.
const KEYED: [&str; 2] = ["/admin", "/users"];

pub fn routes(cfg: &mut web::ServiceConfig) {
    for (path, endpoints) in resources(|e| e.access == Access::Public) {
        cfg.service(resource(path, &endpoints));
    }
    for prefix in KEYED {
        let mut scope = web::scope(prefix)
            .wrap(RequireKey)
            .app_data(json_config())
            .app_data(query_config());
        let under = |e: &Endpoint| e.access != Access::Public && e.path.starts_with(&format!("{prefix}/"));
        let (fixed, groups) = grouped(resources(under), prefix.len());
        for (path, endpoints) in fixed {
            scope = scope.service(resource(path, &endpoints));
        }
        for (head, members) in groups {
            let mut group = web::scope(head).default_service(web::to(not_found));
            for (rest, endpoints) in members {
                group = group.service(resource(rest, &endpoints));
            }
            scope = scope.service(group);
        }
        cfg.service(scope.default_service(web::to(not_found)));
    }
}

/// A path and the endpoints (one per method) it answers.
type Resource = (&'static str, Vec<&'static Endpoint>);

/// The table's endpoints grouped by path, one resource each, in the order they must be tried:
/// a literal segment ahead of a parameter in the same place (`users/count` before
/// `users/{accountId}`).
fn resources(include: impl Fn(&Endpoint) -> bool) -> Vec<Resource> {
    // Keyed by the path's segments, each marked as a parameter or not: literals sort first.
    let mut by_path: BTreeMap<Vec<(bool, &'static str)>, Resource> = BTreeMap::new();
    for endpoint in ENDPOINTS.iter().filter(|e| include(e)) {
        let order = endpoint
            .path
            .split('/')
            .map(|segment| (segment.starts_with('{'), segment))
            .collect();
        by_path
            .entry(order)
            .or_insert_with(|| (endpoint.path, Vec::new()))
            .1
            .push(endpoint);
    }
    by_path.into_values().collect()
}

/// Resources with no parameter, and the others grouped under the path up to their first
/// parameter (`/v1/orgs/{orgId}`), with `skip` leading bytes (the enclosing scope's prefix) cut.
/// The router tries a group's one pattern before the patterns inside it, and the segments after
/// the parameter are mostly literal: a request is matched against a handful of patterns, not
/// against every path of the table in turn. Both lists keep the order of `resources`, so a
/// literal segment is still tried before a parameter in its place.
fn grouped(resources: Vec<Resource>, skip: usize) -> (Vec<Resource>, Vec<(&'static str, Vec<Resource>)>) {
    let mut fixed = Vec::new();
    let mut groups: Vec<(&'static str, Vec<Resource>)> = Vec::new();
    for (path, endpoints) in resources {
        let path: &'static str = &path[skip..];
        let Some(start) = path.find('{') else {
            fixed.push((path, endpoints));
            continue;
        };
        let end = path[start..].find('/').map_or(path.len(), |i| start + i);
        let (head, rest) = path.split_at(end);
        match groups.iter_mut().find(|(h, _)| *h == head) {
            Some((_, members)) => members.push((rest, endpoints)),
            None => groups.push((head, vec![(rest, endpoints)])),
        }
    }
    (fixed, groups)
}

/// A resource with a route for each of its endpoints, behind the guard of every one of them, by
/// method, so no route of it can be reached without its rule (a public resource's guard has no
/// rules and lets every request through).
fn resource(
    path: &str,
    endpoints: &[&'static Endpoint],
) -> actix_web::Resource<
    impl ServiceFactory<ServiceRequest, Config = (), Response = ServiceResponse<BoxBody>, Error = Error, InitError = ()>
    + use<>,
> {
    let mut resource = web::resource(path.to_owned()).default_service(web::to(method_not_allowed));
    let mut rules = Vec::new();
    let mut bodies = Vec::new();
    for endpoint in endpoints {
        resource = resource.route((endpoint.handler)(web::route().method(endpoint.method.http())));
        if endpoint.access != Access::Public {
            rules.push((endpoint.method.http(), endpoint.access));
        }
        if endpoint.request.is_some() {
            bodies.push(endpoint.method.http());
        }
    }
    resource.wrap(Guard {
        rules: rules.into(),
        bodies: bodies.into(),
    })
}

fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(plain_text::BODY_LIMIT)
        // Clients send JSON with or without saying so (an enable call may carry no header).
        .content_type_required(false)
        .error_handler(|err, _| bad_body(err.to_string()).into())
}

fn query_config() -> web::QueryConfig {
    web::QueryConfig::default()
        .error_handler(|err, _| ApiError::bad_request("ADMIN-400-24", "Invalid query", err.to_string()).into())
}

fn bad_body(detail: String) -> ApiError {
    ApiError::bad_request("ADMIN-400-24", "Invalid request body", detail)
}

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found(
        "ADMIN-404-1",
        "Not found",
        "There is no such resource.",
    ))
}

async fn method_not_allowed() -> Result<HttpResponse, ApiError> {
    Err(ApiError::Application {
        status: actix_web::http::StatusCode::METHOD_NOT_ALLOWED,
        code: "ADMIN-405-1",
        title: "Method not allowed",
        detail: "This resource does not answer this method.".into(),
    })
}

/// What the guard found for a keyed request (steps 5 and 6 of the key middleware): the key acts
/// only inside its own org (a path naming any other org, or an org that does not exist, is the
/// same 404), and a scoped key only within its scopes (403 naming the scope needed). The guard
/// leaves it on the request, where the key middleware counts it with the rest of its outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authorization {
    Allowed,
    ForeignOrg,
    InsufficientScope(Scope),
}

impl Authorization {
    pub fn of(caller: &Caller, org_in_path: Option<&str>, scope: Option<Scope>) -> Authorization {
        if let Some(org) = org_in_path
            && org.parse::<uuid::Uuid>().ok() != Some(caller.org_id)
        {
            return Authorization::ForeignOrg;
        }
        match scope {
            Some(scope) if !caller.has_scope(scope) => Authorization::InsufficientScope(scope),
            _ => Authorization::Allowed,
        }
    }

    fn answer(self) -> Result<(), ApiError> {
        match self {
            Authorization::Allowed => Ok(()),
            Authorization::ForeignOrg => Err(ApiError::org_not_found()),
            Authorization::InsufficientScope(scope) => Err(ApiError::InsufficientScope(scope)),
        }
    }
}

/// The per-resource guard: each endpoint's access rule, by method, checked before its handler
/// runs, then its query string and, for a method whose endpoint reads a body, that body: text
/// is text (`plain_text`). A method the resource has no endpoint for is answered 405, which
/// needs no rule.
struct Guard {
    rules: Rc<[(actix_web::http::Method, Access)]>,
    /// The methods whose endpoint reads a JSON body.
    bodies: Rc<[actix_web::http::Method]>,
}

impl<S> Transform<S, ServiceRequest> for Guard
where
    S: Service<ServiceRequest, Response = ServiceResponse<BoxBody>, Error = Error> + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = Error;
    type Transform = GuardService<S>;
    type InitError = ();
    type Future = Ready<Result<GuardService<S>, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(GuardService {
            service: Rc::new(service),
            rules: self.rules.clone(),
            bodies: self.bodies.clone(),
        }))
    }
}

struct GuardService<S> {
    service: Rc<S>,
    rules: Rc<[(actix_web::http::Method, Access)]>,
    bodies: Rc<[actix_web::http::Method]>,
}

impl<S> Service<ServiceRequest> for GuardService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<BoxBody>, Error = Error> + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = Error;
    type Future = Either<
        S::Future,
        Either<
            Ready<Result<ServiceResponse<BoxBody>, Error>>,
            LocalBoxFuture<'static, Result<ServiceResponse<BoxBody>, Error>>,
        >,
    >;

    actix_web::dev::forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        // A keyed read without a query, the cached path, pays one emptiness test for the rule.
        let checked = self.check(&req).and_then(|()| match req.query_string() {
            "" => Ok(()),
            query => plain_text::check_query(query),
        });
        if let Err(error) = checked {
            return Either::Right(Either::Left(ready(Ok(req.into_response(error.error_response())))));
        }
        if !self.bodies.contains(req.method()) {
            return Either::Left(self.service.call(req));
        }
        let service = self.service.clone();
        Either::Right(Either::Right(Box::pin(async move {
            match plain_text::check_body(req).await {
                Ok(req) => service.call(req).await,
                Err((req, error)) => Ok(req.into_response(error.error_response())),
            }
        })))
    }
}

impl<S> GuardService<S> {
    fn check(&self, req: &ServiceRequest) -> Result<(), ApiError> {
        let Some(&(_, access)) = self.rules.iter().find(|(method, _)| method == req.method()) else {
            return Ok(());
        };
        let mut extensions = req.extensions_mut();
        let keyed = extensions
            .get_mut::<KeyedRequest>()
            .ok_or(ApiError::Unauthorized("Missing or malformed API key."))?;
        let authorization = Authorization::of(&keyed.caller, req.match_info().get("orgId"), access.scope());
        keyed.authorization = Some(authorization);
        authorization.answer()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_literal_segment_is_tried_before_a_parameter_in_its_place() {
        let order: Vec<&str> = resources(|_| true).into_iter().map(|(path, _)| path).collect();
        for (i, earlier) in order.iter().enumerate() {
            for later in &order[i + 1..] {
                let shadowed = earlier.split('/').count() == later.split('/').count()
                    && earlier
                        .split('/')
                        .zip(later.split('/'))
                        .all(|(a, b)| a == b || a.starts_with('{'));
                assert!(!shadowed, "{earlier} would shadow {later}");
            }
        }
    }

    #[test]
    fn no_group_of_routes_captures_the_paths_of_a_later_one() {
        for prefix in KEYED {
            let under = |e: &Endpoint| e.access != Access::Public && e.path.starts_with(&format!("{prefix}/"));
            let (_, groups) = grouped(resources(under), prefix.len());
            let heads: Vec<&str> = groups.iter().map(|(head, _)| *head).collect();
            for (i, earlier) in heads.iter().enumerate() {
                for later in &heads[i + 1..] {
                    let (e, l): (Vec<&str>, Vec<&str>) = (earlier.split('/').collect(), later.split('/').collect());
                    let captures = e.len() <= l.len() && e.iter().zip(&l).all(|(a, b)| a == b || a.starts_with('{'));
                    assert!(!captures, "{prefix}{earlier} would capture {prefix}{later}");
                }
            }
            assert!(heads.len() >= 2 || prefix == "/users", "{prefix}: {heads:?}");
        }
    }
}
