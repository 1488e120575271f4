//! The admin API's operations as people read them: the method, the path, who may call it and
//! what it does. The API's endpoint table is their one source; startup, which assembles the
//! doors, hands this view of it to the console (in the shared state) and to the CLI's
//! `keyward scopes`, so they describe the API without importing it (ARCHITECTURE.md).

use std::sync::Arc;

use crate::domain::Scope;

/// An HTTP method the admin API answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub fn http(self) -> actix_web::http::Method {
        use actix_web::http::Method as M;
        match self {
            Method::Get => M::GET,
            Method::Post => M::POST,
            Method::Put => M::PUT,
            Method::Patch => M::PATCH,
            Method::Delete => M::DELETE,
        }
    }

    /// The method as an OpenAPI path item names it.
    pub fn lower(self) -> &'static str {
        match self {
            Method::Get => "get",
            Method::Post => "post",
            Method::Put => "put",
            Method::Patch => "patch",
            Method::Delete => "delete",
        }
    }
}

/// Who may call an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, without a key (the OpenAPI document).
    Public,
    /// Any valid key of the org, scoped or not.
    AnyKey,
    /// An unscoped key, or a scoped key holding this scope.
    Scope(Scope),
}

impl Access {
    pub fn scope(self) -> Option<Scope> {
        match self {
            Access::Scope(scope) => Some(scope),
            Access::Public | Access::AnyKey => None,
        }
    }
}

/// One operation of the admin API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation {
    pub method: Method,
    /// The path, in the syntax actix-web and OpenAPI share: `/admin/v1/orgs/{orgId}`.
    pub path: &'static str,
    pub access: Access,
    /// What it does, in English (the console translates it).
    pub summary: &'static str,
}

/// Every operation of the admin API, in the endpoint table's order.
#[derive(Debug, Clone)]
pub struct Operations(Arc<[Operation]>);

impl Operations {
    pub fn new(operations: impl IntoIterator<Item = Operation>) -> Operations {
        Operations(operations.into_iter().collect())
    }

    /// The operations a key holding `scope` may call (besides those any key may).
    pub fn unlocked_by(&self, scope: Scope) -> impl Iterator<Item = &Operation> {
        self.0.iter().filter(move |o| o.access == Access::Scope(scope))
    }

    /// The operations any valid key of the org may call, scoped or not.
    pub fn any_key(&self) -> impl Iterator<Item = &Operation> {
        self.0.iter().filter(|o| o.access == Access::AnyKey)
    }
}
