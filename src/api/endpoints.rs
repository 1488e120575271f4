//! The endpoint table: every endpoint of the admin API, once. The router, the scope check, the
//! OpenAPI document and the console's scope explainer are all made from it, so none of them can
//! disagree with another.

use actix_web::Route;
use utoipa::openapi::{RefOr, Schema};
use utoipa::{IntoParams, ToSchema};

use super::{
    api_keys, classification_levels as levels, directory, domains, events, invitations, key, manage, openapi, orgs,
    policies, users,
};
use crate::domain::Scope;
use crate::operations::{Operation, Operations};

pub use crate::operations::{Access, Method};

/// The schemas the document collects: (component name, schema).
pub type Components = Vec<(String, RefOr<Schema>)>;
/// Adds a type's schemas to the components and answers how to refer to it.
pub type SchemaFn = fn(&mut Components) -> RefOr<Schema>;
/// The query parameters of an endpoint.
pub type ParamsFn = fn() -> Vec<utoipa::openapi::path::Parameter>;

/// A named type: its schema goes into the components, the operation refers to it.
pub fn schema<T: ToSchema>(components: &mut Components) -> RefOr<Schema> {
    T::schemas(components);
    components.push((T::name().into_owned(), T::schema()));
    RefOr::Ref(utoipa::openapi::Ref::from_schema_name(T::name()))
}

/// A type described in place (a bare integer).
pub fn inline<T: utoipa::PartialSchema>(_: &mut Components) -> RefOr<Schema> {
    T::schema()
}

pub fn params<T: IntoParams>() -> Vec<utoipa::openapi::path::Parameter> {
    T::into_params(|| Some(utoipa::openapi::path::ParameterIn::Query))
}

/// What a successful call answers.
#[derive(Clone, Copy)]
pub enum Response {
    Json(u16, SchemaFn),
    Empty(u16),
}

impl Response {
    pub fn status(self) -> u16 {
        match self {
            Response::Json(status, _) | Response::Empty(status) => status,
        }
    }
}

/// One endpoint of the admin API.
pub struct Endpoint {
    pub method: Method,
    /// The path, in the syntax actix-web and OpenAPI share: `/admin/v1/orgs/{orgId}`. An
    /// `{orgId}` segment confines the call to the key's own org.
    pub path: &'static str,
    pub access: Access,
    /// What it does, in English for the document (the console translates it).
    pub summary: &'static str,
    pub query: Option<ParamsFn>,
    pub request: Option<SchemaFn>,
    pub response: Response,
    /// Application errors it can answer beyond those every keyed call can (401, 403 for a
    /// missing scope, 404 for an org or object not found, 429, 503).
    pub errors: &'static [u16],
    /// Attaches the handler to a route already set to the method.
    pub handler: fn(Route) -> Route,
}

impl Endpoint {
    /// The path's parameters, in order.
    pub fn path_parameters(&self) -> impl Iterator<Item = &'static str> {
        let path: &'static str = self.path;
        path.split('/')
            .filter_map(|segment| segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
    }
}

/// Every endpoint of the admin API.
pub static ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        method: Method::Get,
        path: "/admin/v1/openapi.json",
        access: Access::Public,
        summary: "This document: the admin API in OpenAPI 3.1",
        query: None,
        request: None,
        response: Response::Json(200, openapi::document_schema),
        errors: &[],
        handler: |route| route.to(openapi::serve),
    },
    Endpoint {
        method: Method::Get,
        path: "/admin/v1/key",
        access: Access::AnyKey,
        summary: "Describe the calling API key",
        query: None,
        request: None,
        response: Response::Json(200, schema::<key::KeyBody<'static>>),
        errors: &[],
        handler: |route| route.to(key::show),
    },
    Endpoint {
        method: Method::Get,
        path: "/admin/v1/orgs",
        access: Access::Scope(Scope::ReadOrgs),
        summary: "List the organizations the key can see (its own)",
        query: None,
        request: None,
        response: Response::Json(200, schema::<orgs::OrgList>),
        errors: &[],
        handler: |route| route.to(orgs::list),
    },
    Endpoint {
        method: Method::Get,
        path: "/admin/v1/orgs/{orgId}",
        access: Access::Scope(Scope::ReadOrgs),
        summary: "Get an organization",
        query: None,
        request: None,
        response: Response::Json(200, schema::<orgs::OrgBody>),
        errors: &[],
        handler: |route| route.to(orgs::get),
    },
    Endpoint {
        method: Method::Get,
        path: "/admin/v1/orgs/{orgId}/users",
        access: Access::Scope(Scope::ReadAccounts),
        summary: "List the organization's users, oldest membership first, in pages of at most 50",
        query: Some(params::<users::UsersQuery>),
        request: None,
        response: Response::Json(200, schema::<users::UserPage>),
        errors: &[400],
        handler: |route| route.to(users::list),
    },
    Endpoint {
        method: Method::Post,
        path: "/admin/v1/orgs/{orgId}/users/search",
        access: Access::Scope(Scope::ReadAccounts),
        summary: "Search the organization's users",
        query: None,
        request: Some(schema::<users::UserSearch>),
        response: Response::Json(200, schema::<users::SearchPage>),
        errors: &[400],
        handler: |route| route.to(users::search_post),
    },
    Endpoint {
        method: Method::Get,
        path: "/admin/v1/orgs/{orgId}/users/search",
        access: Access::Scope(Scope::ReadAccounts),
        summary: "Search the organization's users (filters as query parameters)",
        query: Some(params::<users::UserSearch>),
        request: None,
        response: Response::Json(200, schema::<users::SearchPage>),
        errors: &[400],
        handler: |route| route.to(users::search_get),
    },
    Endpoint {
        method: Method::Get,
        path: "/admin/v1/orgs/{orgId}/directory/users/{accountId}/last-active-dates",
        access: Access::Scope(Scope::ReadAccounts),
        summary: "When a user joined the organization and last used its products",
        query: None,
        request: None,
        response: Response::Json(200, schema::<directory::LastActiveDates>),
        errors: &[],
        handler: |route| route.to(directory::last_active_dates),
    },
    Endpoint {
        method: Method::Post,
        path: "/admin/v1/orgs/{orgId}/directory/users/{accountId}/suspend-access",
        access: Access::Scope(Scope::WriteAccounts),
        summary: "Suspend a user's access to this organization (their other organizations and keys are untouched)",
        query: None,
        request: None,
        response: Response::Json(200, schema::<directory::ActionMessage>),
        errors: &[409],
        handler: |route| route.to(directory::suspend_access),
    },
    Endpoint {
        method: Method::Post,
        path: "/admin/v1/orgs/{orgId}/directory/users/{accountId}/restore-access",
        access: Access::Scope(Scope::WriteAccounts),
        summary: "Restore a suspended user's access to this organization",
        query: None,
        request: None,
        response: Response::Json(200, schema::<directory::ActionMessage>),
        errors: &[],
        handler: |route| route.to(directory::restore_access),
    },
    Endpoint {
        method: Method::Delete,
        path: "/admin/v1/orgs/{orgId}/directory/users/{accountId}",
        access: Access::Scope(Scope::WriteAccounts),
        summary: "Remove a user from the organization, revoking the API keys they answer for",
        query: None,
        request: None,
        response: Response::Empty(204),
        errors: &[409],
        handler: |route| route.to(directory::remove),
    },
    Endpoint {
        method: Method::Get,
        path: "/admin/v2/orgs/{orgId}/directories",
        access: Access::Scope(Scope::ReadDirectories),
        summary: "List the organization's directories (one per organization)",
        query: None,
        request: None,
        response: Response::Json(200, schema::<directory::DirectoryPage>),
        errors: &[],
        handler: |route| route.to(directory::directories),
    },
    Endpoint {
        method: Method::Get,
        path: "/admin/v2/orgs/{orgId}/directories/{directoryId}/users/count",
        access: Access::Scope(Scope::ReadAccounts),
        summary: "Count the users in a directory",
        query: None,
        request: None,
        response: Response::Json(200, schema::<directory::UserCount>),
        errors: &[],
        handler: |route| route.to(directory::count),
    },
    Endpoint {
        method: Method::Post,
        path: "/admin/v2/orgs/{orgId}/directories/{directoryId}/users/search",
        access: Access::Scope(Scope::ReadAccounts),
        summary: "Search the users in a directory",
        query: None,
        request: Some(schema::<directory::DirectorySearch>),
        response: Response::Json(200, schema::<users::SearchPage>),
        errors: &[400],
        handler: |route| route.to(directory::search),
    },
    Endpoint {
        method: Method::Get,
        path: "/admin/v2/orgs/{orgId}/directories/{directoryId}/users/{accountId}",
        access: Access::Scope(Scope::ReadAccounts),
        summary: "Get a user of a directory",
        query: None,
        request: None,
        response: Response::Json(200, schema::<directory::DirectoryUserBody>),
        errors: &[],
        handler: |route| route.to(directory::user),
    },
    Endpoint {
        method: Method::Post,
        path: "/admin/v2/orgs/{orgId}/directories/{directoryId}/users/{accountId}/suspend",
        access: Access::Scope(Scope::WriteAccounts),
        summary: "Suspend a user's access to this organization (their other organizations and keys are untouched)",
        query: None,
        request: None,
        response: Response::Empty(204),
        errors: &[409],
        handler: |route| route.to(directory::suspend),
    },
    Endpoint {
        method: Method::Post,
        path: "/admin/v2/orgs/{orgId}/directories/{directoryId}/users/{accountId}/restore",
        access: Access::Scope(Scope::WriteAccounts),
        summary: "Restore a suspended user's access to this organization",
        query: None,
        request: None,
        response: Response::Empty(204),
        errors: &[],
        handler: |route| route.to(directory::restore),
    },
    Endpoint {
        method: Method::Delete,
        path: "/admin/v2/orgs/{orgId}/directories/{directoryId}/users/{accountId}",
        access: Access::Scope(Scope::WriteAccounts),
        summary: "Remove a user from the organization, revoking the API keys they answer for",
        query: None,
        request: None,
        response: Response::Empty(204),
        errors: &[409],
        handler: |route| route.to(directory::remove_v2),
    },
    Endpoint {
        method: Method::Post,
        path: "/admin/v2/orgs/{orgId}/users/invite",
        access: Access::Scope(Scope::WriteAccounts),
        summary: "Invite people to join the organization as members: each answer carries a one-time invitation link (invitationLink) to hand over, the same whether the address has an account or not",
        query: None,
        request: Some(schema::<invitations::InviteRequest>),
        response: Response::Json(200, schema::<invitations::InviteAnswer>),
        errors: &[400, 409],
        handler: |route| route.to(invitations::invite),
    },
    Endpoint {
        method: Method::Get,
        path: "/users/{accountId}/manage",
        access: Access::Scope(Scope::ReadAccounts),
        summary: "What the key's organization may do to a member's account",
        query: Some(params::<manage::PrivilegesQuery>),
        request: None,
        response: Response::Json(200, schema::<manage::Privileges>),
        errors: &[400],
        handler: |route| route.to(manage::privileges),
    },
    Endpoint {
        method: Method::Get,
        path: "/users/{accountId}/manage/profile",
        access: Access::Scope(Scope::ReadAccounts),
        summary: "Get a member's profile",
        query: None,
        request: None,
        response: Response::Json(200, schema::<manage::ProfileBody>),
        errors: &[],
        handler: |route| route.to(manage::profile),
    },
    Endpoint {
        method: Method::Patch,
        path: "/users/{accountId}/manage/profile",
        access: Access::Scope(Scope::WriteAccounts),
        summary: "Change a managed account's profile",
        query: None,
        request: Some(schema::<manage::ProfilePatchBody>),
        response: Response::Json(200, schema::<manage::ProfileBody>),
        errors: &[400],
        handler: |route| route.to(manage::update_profile),
    },
    Endpoint {
        method: Method::Put,
        path: "/users/{accountId}/manage/email",
        access: Access::Scope(Scope::WriteAccounts),
        summary: "Change a managed account's email, ending its console sessions",
        query: None,
        request: Some(schema::<manage::EmailChange>),
        response: Response::Empty(204),
        errors: &[400, 409],
        handler: |route| route.to(manage::set_email),
    },
    Endpoint {
        method: Method::Post,
        path: "/users/{accountId}/manage/lifecycle/disable",
        access: Access::Scope(Scope::WriteAccounts),
        summary: "Disable a managed account, ending its console sessions",
        query: None,
        request: Some(schema::<manage::DisableRequest>),
        response: Response::Empty(204),
        errors: &[400, 409],
        handler: |route| route.to(manage::disable),
    },
    Endpoint {
        method: Method::Post,
        path: "/users/{accountId}/manage/lifecycle/enable",
        access: Access::Scope(Scope::WriteAccounts),
        summary: "Enable a managed account again",
        query: None,
        request: None,
        response: Response::Empty(204),
        errors: &[],
        handler: |route| route.to(manage::enable),
    },
    Endpoint {
        method: Method::Get,
        path: "/admin/v1/orgs/{orgId}/events",
        access: Access::Scope(Scope::ReadEvents),
        summary: "List the organization's audit events, newest first, in pages of at most 50 (the default; \
                  more is a 400). from is inclusive, to exclusive, each epoch milliseconds or RFC 3339",
        query: Some(params::<events::EventsQuery>),
        request: None,
        response: Response::Json(200, schema::<events::EventPage>),
        errors: &[400],
        handler: |route| route.to(events::list),
    },
    Endpoint {
        method: Method::Get,
        path: "/admin/v1/orgs/{orgId}/events/{eventId}",
        access: Access::Scope(Scope::ReadEvents),
        summary: "Get an audit event",
        query: None,
        request: None,
        response: Response::Json(200, schema::<events::EventBody>),
        errors: &[],
        handler: |route| route.to(events::get),
    },
    Endpoint {
        method: Method::Get,
        path: "/admin/v1/orgs/{orgId}/events-stream",
        access: Access::Scope(Scope::ReadEvents),
        summary: "Follow the organization's audit events in time order: oldest first unless sortOrder=desc, \
                  pages of 50 by default and at most 500 (more is a 400); from is inclusive, to exclusive",
        query: Some(params::<events::StreamQuery>),
        request: None,
        response: Response::Json(200, schema::<events::EventPage>),
        errors: &[400],
        handler: |route| route.to(events::stream),
    },
    Endpoint {
        method: Method::Get,
        path: "/admin/v1/orgs/{orgId}/event-actions",
        access: Access::Scope(Scope::ReadEvents),
        summary: "List the actions audit events can have, with their display names and groups",
        query: None,
        request: None,
        response: Response::Json(200, schema::<events::EventActionList>),
        errors: &[],
        handler: |route| route.to(events::actions),
    },
    Endpoint {
        method: Method::Get,
        path: "/admin/v2/orgs/{orgId}/events",
        access: Access::Scope(Scope::ReadEvents),
        summary: "List the organization's audit events, newest first, in pages of at most 50 (the default; \
                  more is a 400). from is inclusive, to exclusive, each epoch milliseconds or RFC 3339",
        query: Some(params::<events::EventsQuery>),
        request: None,
        response: Response::Json(200, schema::<events::EventPage>),
        errors: &[400],
        handler: |route| route.to(events::list),
    },
    Endpoint {
        method: Method::Get,
        path: "/admin/v2/orgs/{orgId}/events/{eventId}",
        access: Access::Scope(Scope::ReadEvents),
        summary: "Get an audit event",
        query: None,
        request: None,
        response: Response::Json(200, schema::<events::EventBody>),
        errors: &[],
        handler: |route| route.to(events::get),
    },
    Endpoint {
        method: Method::Get,
        path: "/admin/v2/orgs/{orgId}/events-stream",
        access: Access::Scope(Scope::ReadEvents),
        summary: "Follow the organization's audit events in time order: oldest first unless sortOrder=desc, \
                  pages of 50 by default and at most 500 (more is a 400); from is inclusive, to exclusive",
        query: Some(params::<events::StreamQuery>),
        request: None,
        response: Response::Json(200, schema::<events::EventPage>),
        errors: &[400],
        handler: |route| route.to(events::stream),
    },
    Endpoint {
        method: Method::Get,
        path: "/admin/v2/orgs/{orgId}/event-actions",
        access: Access::Scope(Scope::ReadEvents),
        summary: "List the actions audit events can have, with their display names and groups",
        query: None,
        request: None,
        response: Response::Json(200, schema::<events::EventActionList>),
        errors: &[],
        handler: |route| route.to(events::actions),
    },
    Endpoint {
        method: Method::Get,
        path: "/admin/api-access/v1/orgs/{orgId}/api-keys",
        access: Access::Scope(Scope::ReadKeys),
        summary: "List the organization's API keys, newest first, filtered by text, status and expiry",
        query: Some(params::<api_keys::ListQuery>),
        request: None,
        response: Response::Json(200, schema::<api_keys::KeyPage>),
        errors: &[400],
        handler: |route| route.to(api_keys::list),
    },
    Endpoint {
        method: Method::Get,
        path: "/admin/api-access/v1/orgs/{orgId}/api-keys/count",
        access: Access::Scope(Scope::ReadKeys),
        summary: "Count the organization's API keys under the list's filters (a bare integer)",
        query: Some(params::<api_keys::ListQuery>),
        request: None,
        response: Response::Json(200, inline::<i64>),
        errors: &[400],
        handler: |route| route.to(api_keys::count),
    },
    Endpoint {
        method: Method::Post,
        path: "/admin/api-access/v1/orgs/{orgId}/api-keys",
        access: Access::Scope(Scope::WriteKeys),
        summary: "Create an API key; its token is in this answer only. Scopes absent or null make a key \
                  without scopes, which only a key without scopes may create (403); scopes must be the \
                  calling key's own or fewer (403); [] or an unknown scope is a 400. No expiresAt: 30 days, \
                  cut to the org's key lifetime policy and to the calling key's expiry. A date keeps the \
                  key working through that whole day in UTC; a day that a limit falls in ends at the limit \
                  (expiryLimitedBy). Past 365 days, the policy or the calling key's expiry: 400",
        query: None,
        request: Some(schema::<api_keys::NewKeyBody>),
        response: Response::Json(201, schema::<api_keys::CreatedKey>),
        errors: &[400, 403],
        handler: |route| route.to(api_keys::create),
    },
    Endpoint {
        method: Method::Patch,
        path: "/admin/api-access/v1/orgs/{orgId}/api-keys/revoke/{apiKeyId}",
        access: Access::Scope(Scope::DeleteKeys),
        summary: "Revoke an API key, at once on every instance (204, also when it was revoked before)",
        query: None,
        request: None,
        response: Response::Empty(204),
        errors: &[],
        handler: |route| route.to(api_keys::revoke),
    },
    Endpoint {
        method: Method::Get,
        path: "/admin/v1/orgs/{orgId}/policies",
        access: Access::Scope(Scope::ReadPolicies),
        summary: "List the organization's policies, oldest first, optionally of one type",
        query: Some(params::<policies::ListQuery>),
        request: None,
        response: Response::Json(200, schema::<policies::PolicyPage>),
        errors: &[400],
        handler: |route| route.to(policies::list),
    },
    Endpoint {
        method: Method::Post,
        path: "/admin/v1/orgs/{orgId}/policies",
        access: Access::Scope(Scope::WritePolicies),
        summary: "Create a policy: ip-allowlist (the organization's keys are refused from any other address, \
                  on every instance at once) or api-key-lifetime (new keys live at most maxDays); any other \
                  type is a 400",
        query: None,
        request: Some(schema::<policies::PolicyRequest>),
        response: Response::Json(200, schema::<policies::PolicyBody>),
        errors: &[400],
        handler: |route| route.to(policies::create),
    },
    Endpoint {
        method: Method::Get,
        path: "/admin/v1/orgs/{orgId}/policies/{policyId}",
        access: Access::Scope(Scope::ReadPolicies),
        summary: "Get a policy",
        query: None,
        request: None,
        response: Response::Json(200, schema::<policies::PolicyBody>),
        errors: &[],
        handler: |route| route.to(policies::get),
    },
    Endpoint {
        method: Method::Put,
        path: "/admin/v1/orgs/{orgId}/policies/{policyId}",
        access: Access::Scope(Scope::WritePolicies),
        summary: "Replace a policy's name, status, rule and resources (its type cannot change)",
        query: None,
        request: Some(schema::<policies::PolicyRequest>),
        response: Response::Json(200, schema::<policies::PolicyBody>),
        errors: &[400],
        handler: |route| route.to(policies::update),
    },
    Endpoint {
        method: Method::Delete,
        path: "/admin/v1/orgs/{orgId}/policies/{policyId}",
        access: Access::Scope(Scope::DeletePolicies),
        summary: "Delete a policy",
        query: None,
        request: None,
        response: Response::Empty(204),
        errors: &[],
        handler: |route| route.to(policies::delete),
    },
    Endpoint {
        method: Method::Get,
        path: "/admin/control/v2/orgs/{orgId}/policies",
        access: Access::Scope(Scope::ReadPolicies),
        summary: "List the organization's policies, oldest first, optionally of one type",
        query: Some(params::<policies::ListQuery>),
        request: None,
        response: Response::Json(200, schema::<policies::PolicyPage>),
        errors: &[400],
        handler: |route| route.to(policies::list),
    },
    Endpoint {
        method: Method::Post,
        path: "/admin/control/v2/orgs/{orgId}/policies",
        access: Access::Scope(Scope::WritePolicies),
        summary: "Create a policy: ip-allowlist (the organization's keys are refused from any other address, \
                  on every instance at once) or api-key-lifetime (new keys live at most maxDays); any other \
                  type is a 400",
        query: None,
        request: Some(schema::<policies::PolicyRequest>),
        response: Response::Json(200, schema::<policies::PolicyBody>),
        errors: &[400],
        handler: |route| route.to(policies::create),
    },
    Endpoint {
        method: Method::Get,
        path: "/admin/control/v2/orgs/{orgId}/policies/{policyId}",
        access: Access::Scope(Scope::ReadPolicies),
        summary: "Get a policy",
        query: None,
        request: None,
        response: Response::Json(200, schema::<policies::PolicyBody>),
        errors: &[],
        handler: |route| route.to(policies::get),
    },
    Endpoint {
        method: Method::Put,
        path: "/admin/control/v2/orgs/{orgId}/policies/{policyId}",
        access: Access::Scope(Scope::WritePolicies),
        summary: "Replace a policy's name, status, rule and resources (its type cannot change)",
        query: None,
        request: Some(schema::<policies::PolicyRequest>),
        response: Response::Json(200, schema::<policies::PolicyBody>),
        errors: &[400],
        handler: |route| route.to(policies::update),
    },
    Endpoint {
        method: Method::Delete,
        path: "/admin/control/v2/orgs/{orgId}/policies/{policyId}",
        access: Access::Scope(Scope::DeletePolicies),
        summary: "Delete a policy",
        query: None,
        request: None,
        response: Response::Empty(204),
        errors: &[],
        handler: |route| route.to(policies::delete),
    },
    Endpoint {
        method: Method::Get,
        path: "/admin/v1/orgs/{orgId}/domains",
        access: Access::Scope(Scope::ReadDomains),
        summary: "List the domains the organization claims, oldest claim first, in pages of at most 100",
        query: Some(params::<domains::DomainsQuery>),
        request: None,
        response: Response::Json(200, schema::<domains::DomainPage>),
        errors: &[400],
        handler: |route| route.to(domains::list_v1),
    },
    Endpoint {
        method: Method::Get,
        path: "/admin/v1/orgs/{orgId}/domains/{domainId}",
        access: Access::Scope(Scope::ReadDomains),
        summary: "Get a domain the organization claims",
        query: None,
        request: None,
        response: Response::Json(200, schema::<domains::DomainBody>),
        errors: &[],
        handler: |route| route.to(domains::get_v1),
    },
    Endpoint {
        method: Method::Get,
        path: "/admin/v2/orgs/{orgId}/domains",
        access: Access::Scope(Scope::ReadDomains),
        summary: "List the domains the organization claims, oldest claim first, in pages of at most 100",
        query: Some(params::<domains::DomainsQuery>),
        request: None,
        response: Response::Json(200, schema::<domains::DomainPage>),
        errors: &[400],
        handler: |route| route.to(domains::list_v2),
    },
    Endpoint {
        method: Method::Get,
        path: "/admin/v2/orgs/{orgId}/domains/{domainId}",
        access: Access::Scope(Scope::ReadDomains),
        summary: "Get a domain the organization claims",
        query: None,
        request: None,
        response: Response::Json(200, schema::<domains::DomainBody>),
        errors: &[],
        handler: |route| route.to(domains::get_v2),
    },
    Endpoint {
        method: Method::Get,
        path: "/admin/dlp/v1/orgs/{orgId}/classification-levels",
        access: Access::Scope(Scope::ReadClassificationLevels),
        summary: "List the organization's classification levels: published ones by rank (most sensitive first), then drafts, then archived ones",
        query: Some(params::<levels::LevelsQuery>),
        request: None,
        response: Response::Json(200, schema::<levels::LevelList>),
        errors: &[400],
        handler: |route| route.to(levels::list),
    },
    Endpoint {
        method: Method::Post,
        path: "/admin/dlp/v1/orgs/{orgId}/classification-levels",
        access: Access::Scope(Scope::WriteClassificationLevels),
        summary: "Create a classification level, as a draft",
        query: None,
        request: Some(schema::<levels::NewLevel>),
        response: Response::Json(201, schema::<levels::LevelItem>),
        errors: &[400, 409],
        handler: |route| route.to(levels::create),
    },
    Endpoint {
        method: Method::Get,
        path: "/admin/dlp/v1/orgs/{orgId}/classification-levels/{levelId}",
        access: Access::Scope(Scope::ReadClassificationLevels),
        summary: "Get a classification level",
        query: None,
        request: None,
        response: Response::Json(200, schema::<levels::LevelItem>),
        errors: &[],
        handler: |route| route.to(levels::get),
    },
    Endpoint {
        method: Method::Put,
        path: "/admin/dlp/v1/orgs/{orgId}/classification-levels/{levelId}",
        access: Access::Scope(Scope::WriteClassificationLevels),
        summary: "Edit a draft classification level (a published or archived one is a 409)",
        query: None,
        request: Some(schema::<levels::LevelEdit>),
        response: Response::Json(200, schema::<levels::LevelItem>),
        errors: &[400, 409],
        handler: |route| route.to(levels::edit),
    },
    Endpoint {
        method: Method::Post,
        path: "/admin/dlp/v1/orgs/{orgId}/classification-levels/publish",
        access: Access::Scope(Scope::WriteClassificationLevels),
        summary: "Publish draft classification levels, all or none, ranked after the published ones in the order given",
        query: None,
        request: Some(schema::<levels::LevelIds>),
        response: Response::Json(200, schema::<levels::LevelList>),
        errors: &[400, 409],
        handler: |route| route.to(levels::publish),
    },
    Endpoint {
        method: Method::Post,
        path: "/admin/dlp/v1/orgs/{orgId}/classification-levels/archive",
        access: Access::Scope(Scope::WriteClassificationLevels),
        summary: "Archive a published classification level; the levels ranked after it move up",
        query: None,
        request: Some(schema::<levels::LevelRef>),
        response: Response::Json(200, schema::<levels::LevelItem>),
        errors: &[400, 409],
        handler: |route| route.to(levels::archive),
    },
    Endpoint {
        method: Method::Post,
        path: "/admin/dlp/v1/orgs/{orgId}/classification-levels/restore",
        access: Access::Scope(Scope::WriteClassificationLevels),
        summary: "Restore an archived classification level as a draft",
        query: None,
        request: Some(schema::<levels::LevelRef>),
        response: Response::Json(200, schema::<levels::LevelItem>),
        errors: &[400, 409],
        handler: |route| route.to(levels::restore),
    },
    Endpoint {
        method: Method::Post,
        path: "/admin/dlp/v1/orgs/{orgId}/classification-levels/reorder",
        access: Access::Scope(Scope::WriteClassificationLevels),
        summary: "Rank the published classification levels in the order given (most sensitive first), naming each exactly once",
        query: None,
        request: Some(schema::<levels::LevelIds>),
        response: Response::Json(200, schema::<levels::LevelList>),
        errors: &[400],
        handler: |route| route.to(levels::reorder),
    },
];

/// The scope explainer: the endpoints a scope unlocks.
/// The table as people read it (method, path, access, summary), for the console's scope
/// explainer and the CLI, which describe the API without depending on it.
pub fn operations() -> Operations {
    Operations::new(ENDPOINTS.iter().map(|e| Operation {
        method: e.method,
        path: e.path,
        access: e.access,
        summary: e.summary,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_is_registered_once_per_method() {
        let mut seen = std::collections::HashSet::new();
        for e in ENDPOINTS {
            assert!(seen.insert((e.method, e.path)), "{:?} {} twice", e.method, e.path);
        }
    }

    #[test]
    fn every_scope_unlocks_something_or_is_of_a_later_family() {
        let unlocked: Vec<Scope> = Scope::ALL
            .iter()
            .copied()
            .filter(|&s| operations().unlocked_by(s).next().is_some())
            .collect();
        assert!(unlocked.contains(&Scope::ReadOrgs));
        assert!(unlocked.contains(&Scope::DeleteKeys));
    }
}
