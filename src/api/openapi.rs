//! The OpenAPI 3.1 document of the admin API, made from the endpoint table and the response
//! types' own schemas (utoipa's derives), and served at `GET /admin/v1/openapi.json`.
//!
//! Every object the document describes admits no property it does not list
//! (`additionalProperties: false`), so a client generated from it, or a test validating
//! answers against it, notices a field sent but not documented.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, web};
use serde_json::{Map, Value, json};
use utoipa::openapi::{RefOr, Schema};

use super::endpoints::{Access, Components, ENDPOINTS, Endpoint, Response};
use super::error::{ErrorList, KeyErrorBody, UserManagementError, json_content_type};
use crate::state::AppState;

/// The document, with the server's public base URL as its one server.
pub fn document(public_base: &str) -> Value {
    let mut components: Components = Vec::new();
    let application_error = super::endpoints::schema::<ErrorList>(&mut components);
    let key_error = super::endpoints::schema::<KeyErrorBody>(&mut components);
    let mut paths: BTreeMap<&str, Map<String, Value>> = BTreeMap::new();
    for endpoint in ENDPOINTS {
        let operation = operation(endpoint, &mut components, &application_error, &key_error);
        paths
            .entry(endpoint.path)
            .or_default()
            .insert(endpoint.method.lower().to_owned(), operation);
    }
    let schemas: BTreeMap<String, Value> = components
        .into_iter()
        .map(|(name, schema)| (name, closed(to_value(&schema))))
        .collect();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "keyward admin API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Manage an organization with API keys: organizations, users, directories, API keys, the audit \
                log's events, domains, policies and classification levels, in the wire format of Atlassian's Cloud Admin REST APIs. A key without scopes may call every \
                endpoint; a scoped key only those its scopes name. A key acts only inside its own organization: \
                any other organization's id is answered as unknown (404). Each key has a request rate limit \
                per instance (every keyward instance counts on its own; --api-rate-limit requests a minute, \
                6000 by default, all of which may come at once after a quiet minute): every answer to a valid \
                key carries X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset, and past the limit \
                the answer is 429 with Retry-After.",
        },
        "servers": [{ "url": public_base }],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "headers": rate_limit_headers(),
            "securitySchemes": {
                "apiKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An organization API key: Authorization: Bearer kw_...",
                },
            },
        },
    })
}

fn operation(
    endpoint: &Endpoint,
    components: &mut Components,
    application_error: &RefOr<Schema>,
    key_error: &RefOr<Schema>,
) -> Value {
    let mut operation = Map::new();
    operation.insert("operationId".into(), Value::String(operation_id(endpoint)));
    operation.insert("summary".into(), Value::String(endpoint.summary.into()));
    let security = match endpoint.access {
        Access::Public => json!([]),
        Access::AnyKey => json!([{ "apiKey": [] }]),
        Access::Scope(scope) => json!([{ "apiKey": [scope.name()] }]),
    };
    operation.insert("security".into(), security);
    if let Access::Scope(scope) = endpoint.access {
        operation.insert("x-keyward-scope".into(), Value::String(scope.name().into()));
    }
    let mut parameters: Vec<Value> = endpoint
        .path_parameters()
        .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
        .collect();
    if let Some(query) = endpoint.query {
        parameters.extend(query().iter().map(to_value));
    }
    if !parameters.is_empty() {
        operation.insert("parameters".into(), Value::Array(parameters));
    }
    if let Some(request) = endpoint.request {
        let schema = to_value(&request(components));
        operation.insert(
            "requestBody".into(),
            json!({ "required": false, "content": { "application/json": { "schema": schema } } }),
        );
    }
    let mut responses = Map::new();
    match endpoint.response {
        Response::Json(status, schema) => {
            let schema = to_value(&schema(components));
            responses.insert(
                status.to_string(),
                json!({ "description": "Success", "content": { "application/json": { "schema": schema } } }),
            );
        }
        Response::Empty(status) => {
            responses.insert(status.to_string(), json!({ "description": "Done; no content" }));
        }
    }
    let application = json!({ "application/json": { "schema": to_value(application_error) } });
    let mut errors: Vec<u16> = endpoint.errors.to_vec();
    if endpoint.access != Access::Public {
        // 403 also when the org's IP allowlist does not hold the caller's address.
        errors.extend([403, 429, 500, 503]);
        responses.insert(
            "401".into(),
            json!({
                "description": "Missing, malformed, unknown, revoked or expired API key",
                "content": { "application/json": { "schema": to_value(key_error) } },
            }),
        );
    }
    if endpoint.path_parameters().next().is_some() {
        errors.push(404);
    }
    // Any endpoint refuses a query parameter that is not text (`plain_text`).
    errors.push(400);
    errors.sort_unstable();
    errors.dedup();
    for status in errors {
        let content = if status == 403 && endpoint.path.starts_with("/users/") {
            // User management refuses a key acting on its own holder, or one whose holder is
            // no longer an active admin, in its own form.
            let own = super::endpoints::schema::<UserManagementError>(components);
            json!({ "application/json": { "schema": { "oneOf": [to_value(application_error), to_value(&own)] } } })
        } else {
            application.clone()
        };
        responses.insert(
            status.to_string(),
            json!({ "description": describe(status), "content": content }),
        );
    }
    if endpoint.access != Access::Public {
        for (status, response) in responses.iter_mut() {
            if status != "401"
                && let Value::Object(response) = response
            {
                response.insert("headers".into(), rate_limit_refs());
            }
        }
    }
    operation.insert("responses".into(), Value::Object(responses));
    Value::Object(operation)
}

/// The headers every answer to a valid key carries (`api::key_rate_headers`), once in the components.
fn rate_limit_headers() -> Value {
    json!({
        "X-RateLimit-Limit": {
            "description": "Requests a minute this key may make to this instance (each keyward instance counts on its own); as many may come at once after a quiet minute",
            "schema": { "type": "integer", "minimum": 1 },
        },
        "X-RateLimit-Remaining": {
            "description": "Requests this key may still make to this instance right now",
            "schema": { "type": "integer", "minimum": 0 },
        },
        "X-RateLimit-Reset": {
            "description": "When this key's budget on this instance is whole again if it makes no request: an RFC 3339 UTC time to the second",
            "schema": { "type": "string", "format": "date-time" },
        },
    })
}

fn rate_limit_refs() -> Value {
    let reference = |name: &str| json!({ "$ref": format!("#/components/headers/{name}") });
    json!({
        "X-RateLimit-Limit": reference("X-RateLimit-Limit"),
        "X-RateLimit-Remaining": reference("X-RateLimit-Remaining"),
        "X-RateLimit-Reset": reference("X-RateLimit-Reset"),
    })
}

fn describe(status: u16) -> &'static str {
    match status {
        400 => "Bad input: the field is named in the detail; nothing was changed",
        403 => {
            "The key lacks the scope the endpoint needs (named in WWW-Authenticate), the org's IP allowlist does not \
             hold the caller's address (ADMIN-403-4), or the rule in the detail forbids it"
        }
        404 => "No such organization or object visible to this key",
        409 => "Refused: it would break a rule of the organization (such as keeping one admin)",
        429 => {
            "Too many requests: too many failed attempts from this address, or this key is over its rate limit on this instance; retry after Retry-After seconds"
        }
        503 => "Temporarily unavailable; retry after Retry-After seconds",
        _ => "Internal error",
    }
}

/// A stable operation id from the method and path: `get_admin_v1_orgs_orgId`.
fn operation_id(endpoint: &Endpoint) -> String {
    let path: String = endpoint
        .path
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let path: Vec<&str> = path.split('_').filter(|s| !s.is_empty()).collect();
    format!("{}_{}", endpoint.method.lower(), path.join("_"))
}

fn to_value<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// Marks every object schema that lists its properties as admitting no others, unless it says
/// otherwise itself.
fn closed(mut schema: Value) -> Value {
    close(&mut schema);
    schema
}

fn close(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.contains_key("properties") && !map.contains_key("additionalProperties") {
                map.insert("additionalProperties".into(), Value::Bool(false));
            }
            map.values_mut().for_each(close);
        }
        Value::Array(items) => items.iter_mut().for_each(close),
        _ => {}
    }
}

/// The schema of the document itself, for its own entry in the table.
pub fn document_schema(_: &mut Components) -> RefOr<Schema> {
    RefOr::T(Schema::Object(
        utoipa::openapi::ObjectBuilder::new()
            .description(Some("An OpenAPI 3.1 document"))
            .additional_properties(Some(utoipa::openapi::schema::AdditionalProperties::FreeForm(true)))
            .build(),
    ))
}

/// `GET /admin/v1/openapi.json`: public, rendered once per instance (`AppState::openapi`).
pub async fn serve(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(json_content_type())
        .insert_header(("Cache-Control", "public, max-age=300"))
        .body(state.openapi.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_endpoint_of_the_table_is_in_the_document_with_its_scope() {
        let document = document("https://keyward.example");
        for endpoint in ENDPOINTS {
            let operation = &document["paths"][endpoint.path][endpoint.method.lower()];
            assert!(operation.is_object(), "{} {}", endpoint.method.lower(), endpoint.path);
            let scopes = &operation["security"][0]["apiKey"];
            match endpoint.access {
                Access::Scope(scope) => assert_eq!(scopes, &json!([scope.name()])),
                Access::AnyKey => assert_eq!(scopes, &json!([])),
                Access::Public => assert_eq!(operation["security"], json!([])),
            }
        }
    }

    #[test]
    fn no_two_types_share_a_component_name() {
        let mut components: Components = Vec::new();
        let application_error = super::super::endpoints::schema::<ErrorList>(&mut components);
        let key_error = super::super::endpoints::schema::<KeyErrorBody>(&mut components);
        for endpoint in ENDPOINTS {
            operation(endpoint, &mut components, &application_error, &key_error);
        }
        let mut seen: BTreeMap<String, Value> = BTreeMap::new();
        for (name, schema) in components {
            let schema = to_value(&schema);
            if let Some(before) = seen.insert(name.clone(), schema.clone()) {
                assert_eq!(before, schema, "two types are named {name}: rename one");
            }
        }
    }

    #[test]
    fn every_keyed_answer_but_the_401_documents_the_rate_limit_headers() {
        let document = document("https://keyward.example");
        assert!(document["components"]["headers"]["X-RateLimit-Reset"].is_object());
        for endpoint in ENDPOINTS {
            let responses = document["paths"][endpoint.path][endpoint.method.lower()]["responses"]
                .as_object()
                .expect("responses");
            for (status, response) in responses {
                let documented = response["headers"]["X-RateLimit-Remaining"]["$ref"]
                    == json!("#/components/headers/X-RateLimit-Remaining");
                let keyed = endpoint.access != Access::Public && status != "401";
                assert_eq!(
                    documented,
                    keyed,
                    "{} {} {status}",
                    endpoint.method.lower(),
                    endpoint.path
                );
            }
        }
    }

    #[test]
    fn every_listed_object_admits_no_other_properties() {
        let document = document("https://keyward.example");
        let schemas = document["components"]["schemas"].as_object().expect("schemas");
        assert!(schemas.contains_key("ErrorList"));
        fn check(value: &Value) {
            if let Value::Object(map) = value {
                if map.contains_key("properties") {
                    assert_eq!(map.get("additionalProperties"), Some(&Value::Bool(false)), "{value}");
                }
                map.values().for_each(check);
            }
        }
        schemas.values().for_each(check);
    }
}
