//! The contract check every response of the integration tests passes
//! through (called by `helpers::send`): the body has no duplicate keys, and
//! the answer matches its operation in the committed OpenAPI document — the
//! status is declared, the content type is one declared for it, and a JSON
//! body validates against the declared schema (types, required fields,
//! enums, formats, and no field the schema does not declare). So every new
//! endpoint is held to its documented contract without a test of its own.

use std::collections::HashSet;
use std::sync::OnceLock;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

pub fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    })
}

/// Checks one answer (its status, content type, body and the headers the
/// document requires, by lower-case name); panics naming every way it
/// breaks the contract.
pub fn check(
    method: &str,
    url: &str,
    status: u16,
    content_type: Option<&str>,
    headers: &[String],
    body: &[u8],
) {
    let path = url
        .split_once("://")
        .map_or(url, |(_, rest)| rest.find('/').map_or("/", |i| &rest[i..]));
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let Some((template, operation)) = operation(method, path) else {
        // Not a documented operation (unknown routes, 405s, the docs page).
        return;
    };
    let mut problems = vec![];
    let is_json = content_type.is_some_and(|c| c.contains("json"));
    if is_json && let Some(dup) = duplicate_key(body) {
        problems.push(format!("the body sends the key `{dup}` twice"));
    }
    match response_of(operation, status) {
        None => problems.push(format!("status {status} is not declared")),
        Some(response) => {
            let required = response
                .get("headers")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .filter(|(_, h)| h["required"] == true);
            for (name, _) in required {
                if !headers.contains(&name.to_lowercase()) {
                    problems.push(format!("the required header {name} is missing"));
                }
            }
            let content = response.get("content").and_then(Value::as_object);
            match (content, content_type) {
                (None, _) if body.is_empty() => {}
                (None, _) => problems.push("a body where none is declared".into()),
                (Some(_), _) if body.is_empty() && status == 304 => {}
                (Some(declared), Some(ct)) => {
                    let media = ct.split(';').next().unwrap_or(ct).trim();
                    let found = declared
                        .iter()
                        .find(|(k, _)| k.split(';').next().unwrap_or(k).trim() == media)
                        .map(|(_, m)| m);
                    match found {
                        None => problems.push(format!(
                            "content type {media} is not declared (declared: {:?})",
                            declared.keys().collect::<Vec<_>>()
                        )),
                        Some(m) if media.contains("json") => {
                            match serde_json::from_slice::<Value>(body) {
                                Err(e) => problems.push(format!("the body is not JSON: {e}")),
                                Ok(value) => {
                                    if let Some(schema) = m.get("schema") {
                                        validate(schema, &value, "$", &mut problems);
                                    }
                                }
                            }
                        }
                        Some(_) => {}
                    }
                }
                (Some(_), None) => problems.push("no content type".into()),
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} {template} answered {status}, which breaks the committed OpenAPI document:\n  {}\nbody: {}",
        method.to_uppercase(),
        problems.join("\n  "),
        String::from_utf8_lossy(body)
    );
}

/// The documented operation for a concrete path: literal segments win
/// over parameters.
fn operation(method: &str, path: &str) -> Option<(&'static str, &'static Value)> {
    let method = method.to_lowercase();
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let mut best: Option<(usize, &'static str, &'static Value)> = None;
    for (template, item) in spec()["paths"].as_object()? {
        let parts: Vec<&str> = template.trim_end_matches('/').split('/').collect();
        if parts.len() != segments.len() {
            continue;
        }
        let mut literal = 0;
        let fits = parts.iter().zip(&segments).all(|(p, s)| {
            if p.starts_with('{') {
                !s.is_empty()
            } else if p == s {
                literal += 1;
                true
            } else {
                false
            }
        });
        if fits
            && let Some(op) = item.get(&method)
            && best.is_none_or(|(l, _, _)| literal > l)
        {
            best = Some((literal, template.as_str(), op));
        }
    }
    best.map(|(_, t, op)| (t, op))
}

fn resolve(v: &'static Value) -> &'static Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let pointer = r.trim_start_matches('#');
            resolve(
                spec()
                    .pointer(pointer)
                    .unwrap_or_else(|| panic!("dangling $ref {r}")),
            )
        }
        None => v,
    }
}

fn response_of(operation: &'static Value, status: u16) -> Option<&'static Value> {
    let responses = operation.get("responses")?;
    responses
        .get(status.to_string())
        .or_else(|| responses.get(format!("{}XX", status / 100)))
        .or_else(|| responses.get("default"))
        .map(resolve)
}

fn type_matches(t: &str, v: &Value) -> bool {
    match t {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        _ => true,
    }
}

/// The property names an object schema declares, through `$ref` and `allOf`;
/// `None` when it accepts any property.
fn declared_properties(schema: &'static Value, out: &mut HashSet<&'static str>) -> Option<()> {
    let schema = resolve(schema);
    if schema
        .get("additionalProperties")
        .is_some_and(|a| a != &Value::Bool(false))
    {
        return None;
    }
    let mut constrained = false;
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        constrained = true;
        out.extend(props.keys().map(String::as_str));
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for s in all {
            declared_properties(s, out)?;
            constrained = true;
        }
    }
    constrained.then_some(())
}

fn validate(schema: &'static Value, v: &Value, at: &str, problems: &mut Vec<String>) {
    let schema = resolve(schema);
    if let Some(types) = schema.get("type") {
        let ok = match types {
            Value::String(t) => type_matches(t, v),
            Value::Array(ts) => ts.iter().any(|t| type_matches(t.as_str().unwrap_or(""), v)),
            _ => true,
        };
        if !ok {
            problems.push(format!("{at}: {v} is not of type {types}"));
            return;
        }
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array)
        && !values.contains(v)
    {
        problems.push(format!("{at}: {v} is not one of {values:?}"));
    }
    if let (Some(format), Some(s)) = (schema.get("format").and_then(Value::as_str), v.as_str()) {
        let ok = match format {
            "uuid" => uuid::Uuid::parse_str(s).is_ok(),
            "date-time" => chrono::DateTime::parse_from_rfc3339(s).is_ok(),
            "date" => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok(),
            _ => true,
        };
        if !ok {
            problems.push(format!("{at}: \"{s}\" is not a {format}"));
        }
    }
    for (keyword, exactly_one) in [("oneOf", true), ("anyOf", false)] {
        if let Some(branches) = schema.get(keyword).and_then(Value::as_array) {
            let passing = branches
                .iter()
                .filter(|b| {
                    let mut inner = vec![];
                    validate(b, v, at, &mut inner);
                    inner.is_empty()
                })
                .count();
            if (exactly_one && passing != 1) || passing == 0 {
                problems.push(format!(
                    "{at}: {passing} of the {keyword} branches match {v}"
                ));
            }
        }
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for branch in all {
            // Each branch checks its own fields; undeclared ones are checked
            // below against the union of every branch.
            validate_open(branch, v, at, problems);
        }
    }
    if let Value::Object(map) = v {
        check_object(schema, map, at, problems);
    }
    if let (Value::Array(items), Some(item)) = (v, schema.get("items")) {
        for (i, x) in items.iter().enumerate() {
            validate(item, x, &format!("{at}[{i}]"), problems);
        }
    }
}

/// `validate` without the undeclared-field check at the top level.
fn validate_open(schema: &'static Value, v: &Value, at: &str, problems: &mut Vec<String>) {
    let mut inner = vec![];
    validate(schema, v, at, &mut inner);
    problems.extend(
        inner
            .into_iter()
            .filter(|p| !(p.starts_with(&format!("{at}: undeclared field"))))
            .collect::<Vec<_>>(),
    );
}

fn check_object(
    schema: &'static Value,
    map: &serde_json::Map<String, Value>,
    at: &str,
    problems: &mut Vec<String>,
) {
    if let Some(required) = schema.get("required").and_then(Value::as_array) {
        for r in required.iter().filter_map(Value::as_str) {
            if !map.contains_key(r) {
                problems.push(format!("{at}: the required field `{r}` is missing"));
            }
        }
    }
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        for (k, x) in map {
            if let Some(p) = props.get(k) {
                validate(p, x, &format!("{at}.{k}"), problems);
            }
        }
    }
    if let Some(extra) = schema.get("additionalProperties")
        && extra.is_object()
    {
        let props = schema.get("properties").and_then(Value::as_object);
        for (k, x) in map {
            if props.is_none_or(|p| !p.contains_key(k)) {
                validate(extra, x, &format!("{at}.{k}"), problems);
            }
        }
    }
    let mut declared = HashSet::new();
    if declared_properties(schema, &mut declared).is_some() {
        for k in map.keys() {
            if !declared.contains(k.as_str()) {
                problems.push(format!("{at}: undeclared field `{k}`"));
            }
        }
    }
}

/// The first key some object of a JSON text repeats (parsers keep only one).
pub fn duplicate_key(body: &[u8]) -> Option<String> {
    struct Dups(Option<String>);

    impl<'de> Deserialize<'de> for Dups {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_any(DupVisitor)
        }
    }

    struct DupVisitor;

    impl<'de> Visitor<'de> for DupVisitor {
        type Value = Dups;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("JSON")
        }

        fn visit_bool<E>(self, _: bool) -> Result<Dups, E> {
            Ok(Dups(None))
        }
        fn visit_i64<E>(self, _: i64) -> Result<Dups, E> {
            Ok(Dups(None))
        }
        fn visit_u64<E>(self, _: u64) -> Result<Dups, E> {
            Ok(Dups(None))
        }
        fn visit_f64<E>(self, _: f64) -> Result<Dups, E> {
            Ok(Dups(None))
        }
        fn visit_str<E>(self, _: &str) -> Result<Dups, E> {
            Ok(Dups(None))
        }
        fn visit_unit<E>(self) -> Result<Dups, E> {
            Ok(Dups(None))
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Dups, A::Error> {
            let mut found = None;
            while let Some(Dups(d)) = seq.next_element()? {
                found = found.or(d);
            }
            Ok(Dups(found))
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Dups, A::Error> {
            let mut seen = HashSet::new();
            let mut found = None;
            while let Some(key) = map.next_key::<String>()? {
                let Dups(inner) = map.next_value()?;
                if !seen.insert(key.clone()) {
                    found = found.or(Some(key));
                }
                found = found.or(inner);
            }
            Ok(Dups(found))
        }
    }

    serde_json::from_slice::<Dups>(body).ok().and_then(|d| d.0)
}

#[test]
fn a_repeated_key_is_found_at_any_depth() {
    assert_eq!(duplicate_key(br#"{"a":1,"b":{"c":1}}"#), None);
    assert_eq!(
        duplicate_key(br#"{"a":1,"delivery":{"usd":"1"},"delivery":{}}"#),
        Some("delivery".into())
    );
    assert_eq!(
        duplicate_key(br#"[{"x":[{"k":1,"k":2}]}]"#),
        Some("k".into())
    );
}

#[test]
fn undeclared_fields_missing_fields_and_wrong_types_are_reported() {
    let schemas = &spec()["components"]["schemas"];
    let mut problems = vec![];
    validate(
        &schemas["DualPrice"],
        &serde_json::json!({"usd": "1.00", "ves": "36.50"}),
        "$",
        &mut problems,
    );
    assert!(problems.is_empty(), "{problems:?}");
    validate(
        &schemas["DualPrice"],
        &serde_json::json!({"usd": 1, "extra": true}),
        "$",
        &mut problems,
    );
    assert_eq!(
        problems,
        [
            "$: the required field `ves` is missing",
            "$.usd: 1 is not of type \"string\"",
            "$: undeclared field `extra`"
        ]
    );
}

#[test]
fn a_cart_answer_without_its_required_etag_breaks_the_contract() {
    let ok = std::panic::catch_unwind(|| {
        check(
            "get",
            "http://x/api/v1/carts/me",
            200,
            Some("application/json"),
            &["content-type".to_string()],
            b"{}",
        )
    });
    let message = ok
        .expect_err("a 200 cart without ETag is refused")
        .downcast::<String>()
        .map(|m| *m)
        .unwrap_or_default();
    assert!(
        message.contains("the required header ETag is missing"),
        "{message}"
    );
}
