//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]`
//! attributes. Shared error answers (401, 400, 413, 415, 422, 500, 503) are
//! added to each operation by rule here, so every operation lists what it
//! can really answer without repeating it in every attribute.

use actix_web::App;
use serde_json::{Value, json};
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_actix_web::AppExt;

use crate::error::{ErrorCode, FieldError};
use crate::http::problem::Problem;
use crate::routes;

/// The document's fixed parts; paths are collected from the routes.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "canasta API",
        description = "Cart, checkout, order, inventory and reporting API of a Venezuelan marketplace. \
Prices are set in USD and shown in USD and VES; money is always a decimal string. \
Errors are RFC 9457 `application/problem+json` with a stable `code`. \
Lists use cursor pagination (`limit`, `cursor` -> `next_cursor`; `next_cursor` is present only when there is a next page). \
`Idempotency-Key` values are kept for 24 hours (IDEMPOTENCY_RETENTION_HOURS): within that time a retry with the same key \
and body returns the first answer and the same key with another body is 422; after it the key may be used again \
(placing the same checkout twice still returns its one set of orders).",
        contact(name = "canasta team", email = "api@canasta.example"),
        license(name = "MIT", identifier = "MIT")
    ),
    servers((url = "/", description = "This server")),
    security(("bearer_auth" = [])),
    modifiers(&BearerAuth),
    components(schemas(
        Problem,
        ErrorCode,
        FieldError,
        crate::outbox::OrderPlaced,
        crate::outbox::StatusChanged,
        crate::outbox::LowStock,
        crate::outbox::EndpointDisabled
    )),
    tags(
        (name = "health", description = "Liveness and readiness probes."),
        (name = "sellers", description = "The marketplace's sellers (shops)."),
        (name = "products", description = "Sellers' catalogs, priced in USD and shown in VES too."),
        (name = "exchange-rates", description = "USD->VES exchange rates, kept as history."),
        (name = "inventory", description = "Stock levels, the movement ledger, availability and low-stock alerts."),
        (name = "carts", description = "Shopping carts for users and guests: dual-currency, re-priced on every read, versioned with ETag/If-Match."),
        (name = "group-carts", description = "Carts shared by a group: participants add their own lines; the owner checks out."),
        (name = "wishlists", description = "Saved products: a default list and named lists, shareable by read-only links."),
        (name = "addresses", description = "Users' delivery addresses, with Venezuelan phone, id and state rules."),
        (name = "delivery", description = "Sellers' delivery options (pickup, local delivery, courier) and delivery quotes."),
        (name = "checkout", description = "Checkout sessions: stock held while the buyer chooses, and a review with the expected total."),
        (name = "orders", description = "Orders: one per seller per checkout, with frozen prices and a status timeline."),
        (name = "payments", description = "Payment methods (Pago Móvil, transfer, Zelle, cash, card) as data."),
        (name = "fee-rules", description = "Fees applied to carts, kept as data."),
        (name = "reservations", description = "Stock held for checkouts, carts and orders; every hold ends (committed, released or expired)."),
        (name = "webhooks", description = "Signed HTTP callbacks (Standard Webhooks) to integrators' endpoints: the events are in this document's `webhooks`."),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer_auth",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "A JWT from the marketplace's identity service (or `canasta token` in development).",
                    ))
                    .build(),
            ),
        );
    }
}

fn problem_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    })
}

/// The shared responses and the rule for when an operation can give each.
fn shared_responses() -> Value {
    let mut unauthorized =
        problem_response("No, malformed, expired or wrongly signed bearer token (`unauthorized`)");
    unauthorized["headers"] = json!({
        "WWW-Authenticate": {"description": "`Bearer`, per RFC 6750", "schema": {"type": "string"}}
    });
    let mut unavailable =
        problem_response("The database is unavailable; retry later (`service_unavailable`)");
    unavailable["headers"] = json!({
        "Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "integer"}}
    });
    json!({
        "BadRequest": problem_response("Malformed JSON or an invalid path or query parameter (`malformed_json`, `invalid_parameter`, `invalid_cursor`)"),
        "Unauthorized": unauthorized,
        "PayloadTooLarge": problem_response("The body exceeds the size limit (`payload_too_large`)"),
        "UnsupportedMediaType": problem_response("The body is not `application/json` (`unsupported_media_type`)"),
        "ValidationFailed": problem_response("Fields are missing, unknown, of the wrong type or invalid; `errors` lists each (`validation_failed`)"),
        "InternalError": problem_response("An unexpected fault; nothing internal is disclosed (`internal_error`)"),
        "ServiceUnavailable": unavailable,
    })
}

fn is_public(op: &Value) -> bool {
    op.get("security")
        .and_then(Value::as_array)
        .is_some_and(|reqs| {
            reqs.iter()
                .all(|r| r.as_object().is_some_and(|o| o.is_empty()))
        })
}

fn add_shared_responses(spec: &mut Value) {
    spec["components"]["responses"] = shared_responses();
    let Some(paths) = spec["paths"].as_object_mut() else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (_, op) in item.iter_mut() {
            let has_params = op.get("parameters").is_some();
            let has_body = op.get("requestBody").is_some();
            let public = is_public(op);
            let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
                continue;
            };
            let mut add = |status: &str, name: &str| {
                responses
                    .entry(status)
                    .or_insert_with(|| json!({"$ref": format!("#/components/responses/{name}")}));
            };
            if path == "/healthz" || path == "/metrics" {
                continue;
            }
            if has_params || has_body {
                add("400", "BadRequest");
            }
            if !public {
                add("401", "Unauthorized");
            }
            if has_body {
                add("413", "PayloadTooLarge");
                add("415", "UnsupportedMediaType");
                add("422", "ValidationFailed");
            }
            add("500", "InternalError");
            add("503", "ServiceUnavailable");
        }
    }
}

/// The resources that carry a version: their schema and what their `ETag`
/// is called. Every 2xx answer with one of them as its body sends the
/// `ETag`, and `current` of a 412 is one of them.
const VERSIONED: &[(&str, &str)] = &[("CartResponse", "cart")];

/// The conditional-request parts of the protocol, by rule rather than in
/// every handler's annotation: an operation that takes `If-Match` can answer
/// 412 `version_conflict` with `current` (the resource as it is now); one
/// that takes `Idempotency-Key` can answer 428 without it; a 2xx answer
/// whose body is a versioned resource carries its `ETag` (required, and
/// checked against every test response by `tests/api/contract.rs`).
fn add_conditional_responses(spec: &mut Value) {
    let Some(paths) = spec["paths"].as_object_mut() else {
        return;
    };
    for op in paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut())
    {
        let takes = |name: &str| {
            op.get("parameters")
                .and_then(Value::as_array)
                .is_some_and(|ps| ps.iter().any(|p| p["in"] == "header" && p["name"] == name))
        };
        let (if_match, idempotent) = (takes("If-Match"), takes("Idempotency-Key"));
        let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
            continue;
        };
        let mut returns = None;
        for (status, response) in responses.iter_mut() {
            let body = response.pointer("/content/application~1json/schema/$ref");
            let versioned = VERSIONED.iter().find(|(schema, _)| {
                body.and_then(Value::as_str)
                    .is_some_and(|r| r == format!("#/components/schemas/{schema}"))
            });
            if let Some((_, what)) = versioned.filter(|_| status.starts_with('2')) {
                returns = Some(*what);
                response["headers"]["ETag"] = json!({
                    "description": format!("The {what} version"),
                    "required": true,
                    "schema": {"type": "string"}
                });
            }
        }
        if if_match {
            let what = returns.unwrap_or("resource");
            responses.entry("412").or_insert_with(|| {
                problem_response(&format!(
                    "`If-Match` is stale (`version_conflict`); `current` holds the {what}"
                ))
            });
        }
        if idempotent {
            responses
                .entry("428")
                .or_insert_with(|| problem_response("No `Idempotency-Key`"));
        }
    }
}

/// The events integrators receive, as the document's `webhooks` (OpenAPI
/// 3.1): one entry per event type, with the Standard Webhooks headers and
/// the envelope `{type, timestamp, data}` whose `data` is the event's
/// payload schema, so integrators generate types for what they receive.
fn add_webhooks(spec: &mut Value) {
    let events: [(&str, &str, Value); 5] = [
        (
            "order.placed",
            "A checkout placed an order (one per seller).",
            json!({"$ref": "#/components/schemas/OrderPlaced"}),
        ),
        (
            "order.status_changed",
            "One of an order's statuses (`status`, `payment_status`, `shipping_status`) moved.",
            json!({"$ref": "#/components/schemas/StatusChanged"}),
        ),
        (
            "inventory.low_stock",
            "A product's available stock fell to its low-stock threshold.",
            json!({"$ref": "#/components/schemas/LowStock"}),
        ),
        (
            "webhook.endpoint_disabled",
            "An endpoint was disabled after failing persistently (sent to the owner's other endpoints).",
            json!({"$ref": "#/components/schemas/EndpointDisabled"}),
        ),
        (
            "webhook.test",
            "A test ping sent by `test_webhook_endpoint`.",
            json!({
                "type": "object",
                "required": ["endpoint_id", "message"],
                "properties": {
                    "endpoint_id": {"type": "string", "format": "uuid"},
                    "message": {"type": "string"}
                }
            }),
        ),
    ];
    let header = |name: &str, description: &str| json!({"name": name, "in": "header", "required": true, "description": description, "schema": {"type": "string"}});
    let mut webhooks = serde_json::Map::new();
    for (event, summary, data) in events {
        webhooks.insert(event.to_string(), json!({
            "post": {
                "tags": ["webhooks"],
                "operationId": format!("webhook_{}", event.replace('.', "_")),
                "summary": summary,
                "description": "POSTed to every active endpoint subscribed to this event type (a seller's endpoint only for its own orders and stock). Verify `webhook-signature` (HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}` with the endpoint's secret; see docs/webhooks.md), reject old timestamps, and deduplicate on `webhook-id` (the same across retries). Any 2xx acknowledges; anything else is retried on the schedule; 410 disables the endpoint.",
                "parameters": [
                    header("webhook-id", "The message id (`msg_...`), the same on every retry: deduplicate on it"),
                    header("webhook-timestamp", "Seconds since the epoch when this attempt was signed"),
                    header("webhook-signature", "`v1,<base64 HMAC-SHA256>`, space-separated when a rotated secret still signs"),
                ],
                "requestBody": {
                    "required": true,
                    "content": {"application/json": {"schema": {
                        "type": "object",
                        "required": ["type", "timestamp", "data"],
                        "properties": {
                            "type": {"type": "string", "enum": [event]},
                            "timestamp": {"type": "string", "format": "date-time", "description": "When the event happened"},
                            "data": data
                        }
                    }}}
                },
                "responses": {"200": {"description": "Received (any 2xx); anything else is retried"}}
            }
        }));
    }
    spec["webhooks"] = Value::Object(webhooks);
}

/// The complete document as JSON.
pub fn spec() -> Value {
    let (_, api) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(routes::configure)
        .split_for_parts();
    // Serialising the generated document cannot fail: it is plain data.
    let mut value = serde_json::to_value(&api).expect("the OpenAPI document serialises");
    add_shared_responses(&mut value);
    add_conditional_responses(&mut value);
    add_webhooks(&mut value);
    declare_optional_not_null(&mut value);
    type_problem_current(&mut value);
    value
}

/// Fields and headers that are absent rather than `null` when unset: an
/// optional request header (`If-Match`, `X-Cart-Token`) is a string when
/// sent, and a page's `next_cursor` is left out on the last page. Rust's
/// `Option` makes utoipa declare them nullable; generated clients would
/// then type them `string | null` for a value that is never null.
fn declare_optional_not_null(spec: &mut Value) {
    let not_null = |schema: &mut Value| {
        if let Some(types) = schema.get_mut("type").and_then(Value::as_array_mut) {
            types.retain(|t| t != "null");
            if types.len() == 1 {
                schema["type"] = types[0].clone();
            }
        }
    };
    if let Some(paths) = spec["paths"].as_object_mut() {
        for op in paths
            .values_mut()
            .filter_map(Value::as_object_mut)
            .flat_map(|i| i.values_mut())
        {
            // `get_mut`, not indexing: indexing a missing key would insert `null`.
            let params = op.get_mut("parameters").and_then(Value::as_array_mut);
            for param in params.into_iter().flatten() {
                if param["in"] == "header" {
                    not_null(&mut param["schema"]);
                }
            }
        }
    }
    if let Some(schemas) = spec["components"]["schemas"].as_object_mut() {
        for (name, schema) in schemas.iter_mut() {
            if name.ends_with("Page")
                && let Some(cursor) = schema.pointer_mut("/properties/next_cursor")
            {
                not_null(cursor);
            }
        }
    }
}

/// `Problem.current` is the resource as it is now: the cart for a stale
/// `If-Match` (412 `version_conflict`), the checkout with its new review
/// when prices moved (409 `total_changed`); `code` tells which.
fn type_problem_current(spec: &mut Value) {
    spec["components"]["schemas"]["Problem"]["properties"]["current"] = json!({
        "description": "The resource as it is now: the cart on 412 `version_conflict`, the checkout with its new review on 409 `total_changed` (`code` tells which).",
        "oneOf": [
            {"$ref": "#/components/schemas/CartResponse"},
            {"$ref": "#/components/schemas/CheckoutResponse"}
        ]
    });
}

/// The document as the pretty JSON committed at `openapi/openapi.json`.
pub fn spec_json() -> String {
    let mut text = serde_json::to_string_pretty(&spec()).expect("the OpenAPI document serialises");
    text.push('\n');
    text
}
