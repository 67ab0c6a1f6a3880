//! The boundary, fuzzed over every operation of the committed OpenAPI
//! document (so a new operation is covered without a test of its own):
//! - every JSON body whose top-level type is not an object is 422 naming
//!   `body`;
//! - a NUL character (`\u0000`, valid JSON that PostgreSQL refuses) in any
//!   string field of any body is 422 naming that field;
//! - a NUL in any query parameter or path segment is 400 naming it;
//! - and none of it writes anything or answers 5xx.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{JsonExt, TestApp};

fn spec() -> Value {
    serde_json::from_str(include_str!("../../openapi/openapi.json")).unwrap()
}

fn resolve<'a>(spec: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => resolve(spec, spec.pointer(r.trim_start_matches('#')).unwrap()),
        None => v,
    }
}

/// A concrete path for a template: ids are new UUIDs, enums their first value.
fn concrete(spec: &Value, template: &str, op: &Value) -> String {
    let mut path = template.to_string();
    for p in op["parameters"].as_array().into_iter().flatten() {
        let p = resolve(spec, p);
        if p["in"] != "path" {
            continue;
        }
        let schema = resolve(spec, &p["schema"]);
        let value = if schema["format"] == "uuid" {
            Uuid::now_v7().to_string()
        } else if let Some(first) = schema["enum"].as_array().and_then(|e| e.first()) {
            first.string()
        } else {
            "sample".to_string()
        };
        path = path.replace(&format!("{{{}}}", p["name"].str()), &value);
    }
    path
}

/// The string fields of a body schema, as (JSON path, body with a NUL there).
fn nul_bodies(spec: &Value, schema: &Value) -> Vec<(String, Value)> {
    let mut out = vec![];
    let schema = resolve(spec, schema);
    for (name, prop) in properties(spec, schema) {
        let prop = resolve(spec, &prop);
        let kinds = strings_of(spec, prop);
        if kinds.0 {
            out.push((name.clone(), json!({ name.clone(): "a\u{0}b" })));
        }
        if let Some(items) = kinds.1 {
            // One level into arrays of objects: the first string field.
            if let Some((inner, _)) = properties(spec, resolve(spec, &items))
                .into_iter()
                .find(|(_, p)| strings_of(spec, resolve(spec, p)).0)
            {
                out.push((
                    format!("{name}[0].{inner}"),
                    json!({ name.clone(): [{ inner: "a\u{0}b" }] }),
                ));
            }
        }
    }
    out
}

/// (the schema takes a string, the item schema when it is an array)
fn strings_of(spec: &Value, s: &Value) -> (bool, Option<Value>) {
    let s = resolve(spec, s);
    let types: Vec<&str> = match &s["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    let mut string = types.contains(&"string");
    let mut items = types.contains(&"array").then(|| s["items"].clone());
    for branch in ["oneOf", "anyOf", "allOf"]
        .iter()
        .filter_map(|k| s[*k].as_array())
        .flatten()
    {
        let (b_string, b_items) = strings_of(spec, branch);
        string |= b_string;
        items = items.or(b_items);
    }
    (string, items)
}

fn properties(spec: &Value, s: &Value) -> Vec<(String, Value)> {
    let s = resolve(spec, s);
    let mut out: Vec<(String, Value)> = s["properties"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    for branch in s["allOf"].as_array().into_iter().flatten() {
        out.extend(properties(spec, branch));
    }
    out
}

/// Every operation with a JSON body: (method, template, concrete path, body schema).
fn operations_with_bodies(spec: &Value) -> Vec<(String, String, String, Value)> {
    let mut out = vec![];
    for (template, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if let Some(schema) = op
                .pointer("/requestBody/content/application~1json/schema")
                .cloned()
            {
                out.push((
                    method.clone(),
                    template.clone(),
                    concrete(spec, template, op),
                    schema,
                ));
            }
        }
    }
    out
}

fn rows_written(app: &TestApp) -> i64 {
    [
        "carts",
        "cart_items",
        "orders",
        "addresses",
        "products",
        "sellers",
        "reservations",
        "outbox",
    ]
    .iter()
    .map(|t| app.count(t))
    .sum()
}

async fn send(app: &TestApp, method: &str, path: &str, body: &Value) -> crate::helpers::Resp {
    let method = awc::http::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
    app.request(method, path, Some(&app.admin()), Some(body))
        .await
}

#[actix_web::test]
async fn a_body_that_is_not_a_json_object_is_422_for_every_operation() {
    let app = TestApp::spawn().await;
    let spec = spec();
    let ops = operations_with_bodies(&spec);
    assert!(ops.len() > 30, "every body operation is covered");
    let before = rows_written(&app);
    for (method, template, path, _) in &ops {
        for body in [
            json!([null, null]),
            json!("text"),
            json!(7),
            json!(null),
            json!([]),
        ] {
            let resp = send(&app, method, path, &body).await;
            resp.assert_problem(422, "validation_failed");
            assert_eq!(
                resp.error_fields(),
                ["body"],
                "{method} {template} with {body}: {}",
                resp.text
            );
        }
    }
    assert_eq!(rows_written(&app), before, "nothing is written");
}

#[actix_web::test]
async fn a_nul_character_in_any_body_field_is_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let spec = spec();
    let before = rows_written(&app);
    let mut fields = 0;
    for (method, template, path, schema) in operations_with_bodies(&spec) {
        for (field, body) in nul_bodies(&spec, &schema) {
            let resp = send(&app, &method, &path, &body).await;
            resp.assert_problem(422, "validation_failed");
            assert_eq!(
                resp.error_fields(),
                std::slice::from_ref(&field),
                "{method} {template} with {body}: {}",
                resp.text
            );
            fields += 1;
        }
        // A NUL in a key is named too.
        let resp = send(&app, &method, &path, &json!({"a\u{0}": 1})).await;
        resp.assert_problem(422, "validation_failed");
    }
    assert!(fields > 60, "only {fields} string fields were fuzzed");
    assert_eq!(rows_written(&app), before, "nothing is written");
}

#[actix_web::test]
async fn a_nul_character_in_a_query_parameter_or_path_is_400_naming_it() {
    let app = TestApp::spawn().await;
    let spec = spec();
    let mut params = 0;
    for (template, item) in spec["paths"].as_object().unwrap() {
        let Some(op) = item.get("get") else { continue };
        let path = concrete(&spec, template, op);
        for p in op["parameters"].as_array().into_iter().flatten() {
            let p = resolve(&spec, p);
            if p["in"] != "query" {
                continue;
            }
            let name = p["name"].str();
            let resp = app
                .get(&format!("{path}?{name}=a%00b"), Some(&app.admin()))
                .await;
            resp.assert_problem(400, "invalid_parameter");
            assert_eq!(resp.error_fields(), [name], "GET {template}: {}", resp.text);
            params += 1;
        }
    }
    assert!(params > 20, "only {params} query parameters were fuzzed");
    let resp = app
        .get("/api/v1/shared/carts/ab%00cd", Some(&app.admin()))
        .await;
    resp.assert_problem(400, "invalid_parameter");
    assert_eq!(resp.error_fields(), ["path"]);
}

#[actix_web::test]
async fn the_address_that_once_answered_500_for_a_nul_is_refused_and_unchanged() {
    let app = TestApp::spawn().await;
    let user = app.customer();
    let created = app
        .post(
            "/api/v1/addresses",
            Some(&user),
            json!({"recipient": "Ana", "phone": "04141234567", "national_id": "V-1234567",
                   "state": "Miranda", "municipality": "Sucre", "city": "Petare", "line1": "Calle 1"}),
        )
        .await;
    created.assert_status(201);
    let id = created.body["id"].str();
    let resp = app
        .patch(
            &format!("/api/v1/addresses/{id}"),
            Some(&user),
            json!({"line2": "Piso 2\u{0}"}),
        )
        .await;
    resp.assert_problem(422, "validation_failed");
    assert_eq!(resp.error_fields(), ["line2"]);
    let after = app
        .get(&format!("/api/v1/addresses/{id}"), Some(&user))
        .await;
    assert_eq!(after.body["line2"], "");
}

#[actix_web::test]
async fn a_nul_byte_in_a_header_is_refused_by_the_http_layer_not_a_500() {
    use std::io::{Read, Write};
    let app = TestApp::spawn().await;
    let addr = app.address.trim_start_matches("http://").to_string();
    let token = app.customer();
    let status = actix_web::rt::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        let body = b"{\"expected_total\": {\"usd\": \"1.00\", \"ves\": \"1.00\"}}";
        let mut req = format!(
            "POST /api/v1/checkouts/{}/place HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nIdempotency-Key: a",
            Uuid::now_v7(),
            body.len()
        )
        .into_bytes();
        req.extend_from_slice(b"\0b\r\nConnection: close\r\n\r\n");
        req.extend_from_slice(body);
        s.write_all(&req).unwrap();
        let mut answer = String::new();
        let _ = s.read_to_string(&mut answer);
        answer.split(' ').nth(1).unwrap_or("").to_string()
    })
    .await
    .unwrap();
    assert_eq!(status, "400", "a NUL in a header is malformed HTTP");
    assert_eq!(app.count("idempotency_keys"), 0);
}
