//! The committed OpenAPI document equals the one the code generates, and
//! every operation is documented. Needs no database.

use serde_json::Value;

#[test]
fn the_committed_openapi_document_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    let generated = canasta::http::openapi::spec_json();
    assert!(
        committed == generated,
        "openapi/openapi.json is stale; regenerate it with:\n    cargo run -- openapi --write openapi/openapi.json"
    );
}

#[test]
fn every_operation_has_an_id_a_summary_a_tag_and_error_responses() {
    let spec = canasta::http::openapi::spec();
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
            if path != "/healthz" {
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
                !public && path != "/healthz",
                "{id}: 401 iff it takes a token"
            );
        }
    }
    let before = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(before, ids.len(), "operation ids are unique");
}
