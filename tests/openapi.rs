//! The committed OpenAPI document equals the one the code generates, and
//! every operation is documented. Needs no database.

use serde_json::Value;

#[test]
fn the_committed_openapi_document_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    let generated = canasta::openapi::spec_json();
    assert!(
        committed == generated,
        "openapi/openapi.json is stale; regenerate it with:\n    cargo run -- openapi --write openapi/openapi.json"
    );
}

#[test]
fn every_operation_has_an_id_a_summary_a_tag_and_error_responses() {
    let spec = canasta::openapi::spec();
    let mut ids = vec![];
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(
                id.contains('_') || id == "liveness",
                "{id} is not verb_resource"
            );
            ids.push(id.to_string());
            assert!(
                op["summary"].as_str().is_some_and(|s| !s.is_empty()),
                "{id} has no summary"
            );
            assert!(
                op["tags"].as_array().is_some_and(|t| !t.is_empty()),
                "{id} has no tag"
            );
            let responses = op["responses"].as_object().unwrap();
            // The probes and metrics never touch the database.
            if path != "/healthz" && path != "/metrics" {
                assert!(
                    responses.contains_key("500") && responses.contains_key("503"),
                    "{id}"
                );
            }
            let public = op["security"]
                .as_array()
                .is_some_and(|s| s.iter().all(|r| r == &Value::Object(Default::default())));
            assert_eq!(
                responses.contains_key("401"),
                !public && path != "/healthz" && path != "/metrics",
                "{id}: 401 iff it takes a token"
            );
        }
    }
    let before = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(before, ids.len(), "operation ids are unique");
}

/// Status-like enums go over the wire in snake_case; the document must say
/// exactly what the server sends (a macro once made it list `PendingPayment`
/// while the server sent `pending_payment`).
#[test]
fn every_enum_in_the_document_lists_the_wire_values() {
    fn walk(v: &Value, at: &str, bad: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                if let Some(Value::Array(values)) = map.get("enum") {
                    for value in values.iter().filter_map(Value::as_str) {
                        let iso_code =
                            value.len() == 3 && value.chars().all(|c| c.is_ascii_uppercase());
                        if !iso_code && value.chars().any(|c| c.is_ascii_uppercase()) {
                            bad.push(format!("{at}: {value}"));
                        }
                    }
                }
                for (k, child) in map {
                    walk(child, &format!("{at}/{k}"), bad);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    walk(child, &format!("{at}/{i}"), bad);
                }
            }
            _ => {}
        }
    }
    let mut bad = vec![];
    walk(&canasta::openapi::spec(), "", &mut bad);
    assert!(bad.is_empty(), "enum values not in wire form: {bad:?}");
    let status = canasta::orders::state::OrderStatus::ALL
        .iter()
        .map(|s| serde_json::to_value(s).unwrap())
        .collect::<Vec<_>>();
    assert_eq!(
        canasta::openapi::spec()["components"]["schemas"]["OrderStatus"]["enum"],
        Value::Array(status)
    );
}
