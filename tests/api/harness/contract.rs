//! The API's contract, checked on every answer the tests get: each JSON body must validate
//! against the OpenAPI document the server itself serves (whose objects admit no undocumented
//! property), and, where the wire format of Atlassian's admin APIs fixes a shape, against a
//! fixture of that shape written from `shared/atlassian-admin-api.md`, not from the code.
//!
//! The validator covers the JSON Schema the document uses: `$ref`, `type` (one or several),
//! `properties`, `required`, `additionalProperties`, `items`, `oneOf`/`anyOf`/`allOf`, `enum`,
//! `const` and the `date-time` and `uuid` formats.

use serde_json::Value;

/// The operation of `document` that answers `method path`, by matching the path against the
/// document's templates.
pub fn operation<'d>(document: &'d Value, method: &str, path: &str) -> Option<&'d Value> {
    let path = path.split('?').next().unwrap_or(path);
    let paths = document["paths"].as_object()?;
    paths
        .iter()
        .filter(|(template, _)| matches_template(template, path))
        // A literal segment beats a parameter, as in the router.
        .min_by_key(|(template, _)| template.matches('{').count())
        .and_then(|(_, item)| item.get(method.to_ascii_lowercase()))
}

pub fn matches_template(template: &str, path: &str) -> bool {
    let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(t, p)| (t.starts_with('{') && !p.is_empty()) || t == p)
}

/// Checks an answer against the operation's documented response for its status.
pub fn check_answer(document: &Value, operation: &Value, status: u16, body: &[u8]) -> Result<(), String> {
    let response = operation["responses"]
        .get(status.to_string())
        .ok_or_else(|| format!("status {status} is not documented for this operation"))?;
    let Some(schema) = response.pointer("/content/application~1json/schema") else {
        return if body.is_empty() {
            Ok(())
        } else {
            Err(format!("status {status} is documented without a body, and one came"))
        };
    };
    let value: Value = serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    validate(document, schema, &value, "$")
}

/// Validates `value` against `schema`, resolving `$ref`s in `root`.
pub fn validate(root: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    let Some(schema) = schema.as_object() else {
        return Ok(()); // `true` or an empty schema
    };
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let pointer = reference.trim_start_matches('#');
        let target = root
            .pointer(pointer)
            .ok_or_else(|| format!("{at}: unresolved {reference}"))?;
        validate(root, target, value, at)?;
    }
    if let Some(types) = schema.get("type") {
        let allowed: Vec<&str> = match types {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        if !allowed.iter().any(|t| is_type(value, t)) {
            return Err(format!("{at}: {value} is not of type {allowed:?}"));
        }
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        return Err(format!("{at}: {value} is not one of {options:?}"));
    }
    if let Some(constant) = schema.get("const")
        && constant != value
    {
        return Err(format!("{at}: {value} is not {constant}"));
    }
    if let (Some(format), Some(text)) = (schema.get("format").and_then(Value::as_str), value.as_str()) {
        let ok = match format {
            "date-time" => chrono::DateTime::parse_from_rfc3339(text).is_ok(),
            "uuid" => text.parse::<uuid::Uuid>().is_ok(),
            _ => true,
        };
        if !ok {
            return Err(format!("{at}: {text:?} is not a {format}"));
        }
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for option in all {
            validate(root, option, value, at)?;
        }
    }
    for (keyword, exactly_one) in [("oneOf", true), ("anyOf", false)] {
        if let Some(options) = schema.get(keyword).and_then(Value::as_array) {
            let results: Vec<Result<(), String>> = options.iter().map(|o| validate(root, o, value, at)).collect();
            let passed = results.iter().filter(|r| r.is_ok()).count();
            if passed == 0 || (exactly_one && passed > 1) {
                let reasons: Vec<String> = results.into_iter().filter_map(Result::err).collect();
                return Err(format!("{at}: {passed} of the {keyword} options match ({reasons:?})"));
            }
        }
    }
    if let Value::Object(fields) = value {
        let properties = schema.get("properties").and_then(Value::as_object);
        for required in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
            let name = required.as_str().unwrap_or_default();
            if !fields.contains_key(name) {
                return Err(format!("{at}: the required field {name:?} is missing"));
            }
        }
        for (name, field) in fields {
            let here = format!("{at}.{name}");
            match properties.and_then(|p| p.get(name)) {
                Some(property) => validate(root, property, field, &here)?,
                None => match schema.get("additionalProperties") {
                    Some(Value::Bool(false)) => return Err(format!("{here}: a field the document does not list")),
                    Some(extra @ Value::Object(_)) => validate(root, extra, field, &here)?,
                    _ => {}
                },
            }
        }
    }
    if let (Value::Array(items), Some(item_schema)) = (value, schema.get("items")) {
        for (i, item) in items.iter().enumerate() {
            validate(root, item_schema, item, &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}

fn is_type(value: &Value, t: &str) -> bool {
    match t {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "number" => value.is_number(),
        "integer" => value.is_i64() || value.is_u64(),
        _ => false,
    }
}

/// The wire format's shapes, from `tests/api/fixtures/wire_shapes.json`: for some operations
/// (`"GET /admin/v1/orgs"`), the schema a successful body must meet. These list what clients of
/// Atlassian's admin APIs read, so they require fields and types but admit more.
pub fn wire_shapes() -> &'static Value {
    static SHAPES: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    SHAPES.get_or_init(|| {
        serde_json::from_str(include_str!("../fixtures/wire_shapes.json")).expect("wire_shapes.json is JSON")
    })
}

/// The wire shape for `method path` at `status`, if the fixture has one.
pub fn wire_shape(method: &str, path: &str, status: u16) -> Option<&'static Value> {
    let path = path.split('?').next().unwrap_or(path);
    let shapes = wire_shapes()["operations"].as_object()?;
    shapes
        .iter()
        .filter_map(|(key, shape)| {
            let (m, template) = key.split_once(' ')?;
            (m.eq_ignore_ascii_case(method) && matches_template(template, path)).then_some((template, shape))
        })
        .min_by_key(|(template, _)| template.matches('{').count())
        .and_then(|(_, shape)| shape.get(status.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Value {
        json!({ "components": { "schemas": {
            "Item": { "type": "object", "required": ["id"], "additionalProperties": false,
                      "properties": { "id": { "type": "string", "format": "uuid" },
                                      "at": { "type": ["string", "null"], "format": "date-time" } } },
            "Page": { "type": "object", "additionalProperties": false,
                      "properties": { "data": { "type": "array", "items": { "$ref": "#/components/schemas/Item" } },
                                      "next": { "oneOf": [{ "type": "null" }, { "type": "string" }] } } }
        }}})
    }

    fn check(value: Value) -> Result<(), String> {
        let root = doc();
        validate(&root, &json!({ "$ref": "#/components/schemas/Page" }), &value, "$")
    }

    #[test]
    fn the_validator_accepts_what_the_schema_describes_and_refuses_the_rest() {
        let id = uuid::Uuid::new_v4().to_string();
        assert_eq!(
            check(json!({ "data": [{ "id": id, "at": null }], "next": "c" })),
            Ok(())
        );
        assert!(
            check(json!({ "data": [{ "id": id, "extra": 1 }] })).is_err(),
            "undocumented field"
        );
        assert!(
            check(json!({ "data": [{ "at": null }] })).is_err(),
            "missing required field"
        );
        assert!(check(json!({ "data": [{ "id": "not-a-uuid" }] })).is_err(), "format");
        assert!(
            check(json!({ "data": [{ "id": id, "at": "" }] })).is_err(),
            "empty time"
        );
        assert!(check(json!({ "data": {} })).is_err(), "type");
        assert!(check(json!({ "next": 3 })).is_err(), "oneOf");
    }

    #[test]
    fn templates_match_whole_segments() {
        assert!(matches_template("/a/{id}/b", "/a/1/b"));
        assert!(!matches_template("/a/{id}/b", "/a//b"));
        assert!(!matches_template("/a/{id}", "/a/1/b"));
    }
}
