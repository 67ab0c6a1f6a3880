//! Webhook endpoints (`/webhook-endpoints`): register (the secret is shown
//! once), list, read, change, delete, rotate the secret, send a test ping,
//! read the delivery log and redeliver. Admins manage the marketplace's
//! endpoints (and any seller's); a seller manages its own.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::service::{self, EndpointChanges, NewEndpoint};
use super::target::TargetPolicy;
use super::{DeliveryRow, DeliveryStatus, EndpointRow};
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::http::extract::{AuthUser, ValidatedJson};
use crate::http::problem::Problem;
use crate::pagination::PageRequest;

/// A registered endpoint (without its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointResponse {
    /// Endpoint id.
    pub id: Uuid,
    /// The seller it belongs to; absent for the marketplace's own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seller_id: Option<Uuid>,
    /// Where deliveries are POSTed.
    pub url: String,
    /// What it is for.
    pub description: String,
    /// The event types it receives.
    pub event_types: Vec<String>,
    /// Deliveries are made only while active.
    pub active: bool,
    /// Why it was disabled automatically (empty otherwise).
    pub disabled_reason: String,
    /// Since when every attempt has failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<DateTime<Utc>>,
    /// Until when the secret before the last rotation still signs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_secret_until: Option<DateTime<Utc>>,
    /// When registered.
    pub created_at: DateTime<Utc>,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<&EndpointRow> for EndpointResponse {
    fn from(e: &EndpointRow) -> Self {
        Self {
            id: e.id,
            seller_id: e.seller_id.map(Uuid::from),
            url: e.url.clone(),
            description: e.description.clone(),
            event_types: e.event_types.clone(),
            active: e.active,
            disabled_reason: e.disabled_reason.clone(),
            failing_since: e.failing_since,
            previous_secret_until: e.previous_secret_until,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

/// An endpoint with its signing secret: answered only when the secret is
/// made (registration, rotation). Store it; it is never shown again.
#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointWithSecret {
    /// The endpoint.
    #[serde(flatten)]
    pub endpoint: EndpointResponse,
    /// The Standard Webhooks secret (`whsec_` + base64) that signs every delivery.
    pub secret: String,
}

impl From<EndpointRow> for EndpointWithSecret {
    fn from(e: EndpointRow) -> Self {
        Self {
            endpoint: (&e).into(),
            secret: e.secret,
        }
    }
}

/// One delivery of the log.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryResponse {
    /// Delivery id.
    pub id: Uuid,
    /// The event; sent as `webhook-id`.
    pub event_id: Uuid,
    /// The event type.
    pub event_type: String,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts so far.
    pub attempts: i32,
    /// When it is due next (pending and failed deliveries).
    pub next_attempt_at: DateTime<Utc>,
    /// The last failure.
    pub last_error: String,
    /// The receiver's last HTTP status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_status: Option<i32>,
    /// The start of the receiver's last answer (at most 1 KiB).
    pub response_excerpt: String,
    /// When delivered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<DateTime<Utc>>,
    /// The body sent.
    pub payload: serde_json::Value,
    /// When queued.
    pub created_at: DateTime<Utc>,
}

impl From<DeliveryRow> for DeliveryResponse {
    fn from(d: DeliveryRow) -> Self {
        Self {
            id: d.id,
            event_id: d.event_id,
            event_type: d.topic,
            status: d.status,
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at,
            last_error: d.last_error,
            response_status: d.response_status,
            response_excerpt: d.response_excerpt,
            sent_at: d.sent_at,
            payload: d.payload,
            created_at: d.created_at,
        }
    }
}

crate::page_type!(
    DeliveryPage,
    DeliveryResponse,
    "A page of an endpoint's deliveries, newest first."
);

/// Body of `create_webhook_endpoint`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEndpointRequest {
    /// For a seller (admins only; a seller's endpoint is its own).
    pub seller_id: Option<Uuid>,
    /// An `https` URL on a public address.
    #[validate(length(min = 8, max = 2000))]
    #[schema(
        min_length = 8,
        max_length = 2000,
        example = "https://erp.example.com/hooks/canasta"
    )]
    pub url: String,
    /// What it is for.
    #[serde(default)]
    #[validate(length(max = 200))]
    #[schema(max_length = 200)]
    pub description: String,
    /// Event types to receive (see the document's `webhooks`).
    #[schema(min_items = 1, max_items = 20, example = json!(["order.placed", "order.status_changed"]))]
    pub event_types: Vec<String>,
}

/// Body of `update_webhook_endpoint`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateEndpointRequest {
    /// An `https` URL on a public address.
    #[validate(length(min = 8, max = 2000))]
    #[schema(min_length = 8, max_length = 2000)]
    pub url: Option<String>,
    /// What it is for.
    #[validate(length(max = 200))]
    #[schema(max_length = 200)]
    pub description: Option<String>,
    /// Event types to receive.
    #[schema(min_items = 1, max_items = 20)]
    pub event_types: Option<Vec<String>>,
    /// Receive deliveries; `true` re-enables a disabled endpoint.
    pub active: Option<bool>,
}

/// Body of `rotate_webhook_secret`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateSecretRequest {
    /// Hours the old secret keeps signing beside the new one (0 to 168, default 24).
    #[validate(range(min = 0, max = 168))]
    #[schema(minimum = 0, maximum = 168)]
    pub overlap_hours: Option<i64>,
}

/// Query of `list_webhook_endpoints`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListEndpointsQuery {
    /// Only this seller's (admins); sellers always see their own.
    pub seller_id: Option<Uuid>,
}

/// Query of `list_webhook_deliveries`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListDeliveriesQuery {
    /// Items per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Registers a webhook endpoint.
///
/// Deliveries are signed per Standard Webhooks with the `secret` in this
/// answer, the only time it is shown. The URL must be `https` and resolve
/// to public addresses only.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "create_webhook_endpoint",
    request_body = CreateEndpointRequest,
    responses(
        (status = 201, description = "The endpoint and its secret", body = EndpointWithSecret),
        (status = 403, description = "Not an admin or seller, or another seller's", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such seller", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/webhook-endpoints")]
pub async fn create_webhook_endpoint(
    pool: web::Data<DbPool>,
    policy: web::Data<TargetPolicy>,
    user: AuthUser,
    body: ValidatedJson<CreateEndpointRequest>,
) -> Result<HttpResponse, AppError> {
    let b = body.into_inner();
    let policy = **policy;
    check_reachable(b.url.as_str(), policy).await?;
    let new = NewEndpoint {
        seller_id: b.seller_id.map(Into::into),
        url: b.url,
        description: b.description,
        event_types: b.event_types,
    };
    let row = db::run(&pool, move |c| service::create(c, &user, new, policy)).await?;
    Ok(HttpResponse::Created().json(EndpointWithSecret::from(row)))
}

/// Refuses (422 `url`) a URL that resolves to an address the policy does
/// not allow; a URL of the wrong form is reported by the service.
async fn check_reachable(url: &str, policy: TargetPolicy) -> Result<(), AppError> {
    let Ok(target) = super::target::parse(url, policy) else {
        return Ok(());
    };
    super::target::resolve(&target, policy)
        .await
        .map(|_| ())
        .map_err(|why| AppError::invalid("url", why))
}

/// Lists webhook endpoints.
///
/// Admins see every endpoint (or one seller's with `seller_id`); a seller
/// sees its own. Secrets are never listed.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "list_webhook_endpoints",
    params(ListEndpointsQuery),
    responses(
        (status = 200, description = "The endpoints, oldest first", body = Vec<EndpointResponse>),
        (status = 403, description = "Not an admin or seller, or another seller's", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/webhook-endpoints")]
pub async fn list_webhook_endpoints(
    pool: web::Data<DbPool>,
    user: AuthUser,
    query: crate::http::extract::Query<ListEndpointsQuery>,
) -> Result<web::Json<Vec<EndpointResponse>>, AppError> {
    let seller = query.into_inner().seller_id.map(Into::into);
    let rows = db::run(&pool, move |c| service::list(c, &user, seller)).await?;
    Ok(web::Json(rows.iter().map(Into::into).collect()))
}

/// Reads a webhook endpoint.
///
/// With its state: active or disabled (and why), failing since when, and
/// until when a rotated secret still signs. The secret is not shown.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "get_webhook_endpoint",
    params(("endpoint_id" = Uuid, Path, description = "The endpoint id")),
    responses(
        (status = 200, description = "The endpoint", body = EndpointResponse),
        (status = 403, description = "Not an admin or seller", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint, or another seller's", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/webhook-endpoints/{endpoint_id}")]
pub async fn get_webhook_endpoint(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> Result<web::Json<EndpointResponse>, AppError> {
    let id = path.into_inner();
    let row = db::run(&pool, move |c| service::get(c, &user, id)).await?;
    Ok(web::Json((&row).into()))
}

/// Changes a webhook endpoint.
///
/// `active: true` re-enables an endpoint that was disabled after failing.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "update_webhook_endpoint",
    request_body = UpdateEndpointRequest,
    params(("endpoint_id" = Uuid, Path, description = "The endpoint id")),
    responses(
        (status = 200, description = "The endpoint", body = EndpointResponse),
        (status = 403, description = "Not an admin or seller", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint, or another seller's", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/webhook-endpoints/{endpoint_id}")]
pub async fn update_webhook_endpoint(
    pool: web::Data<DbPool>,
    policy: web::Data<TargetPolicy>,
    user: AuthUser,
    path: web::Path<Uuid>,
    body: ValidatedJson<UpdateEndpointRequest>,
) -> Result<web::Json<EndpointResponse>, AppError> {
    let id = path.into_inner();
    let b = body.into_inner();
    let policy = **policy;
    if let Some(url) = &b.url {
        check_reachable(url, policy).await?;
    }
    let changes = EndpointChanges {
        url: b.url,
        description: b.description,
        event_types: b.event_types,
        active: b.active,
    };
    let row = db::run(&pool, move |c| {
        service::update(c, &user, id, changes, policy)
    })
    .await?;
    Ok(web::Json((&row).into()))
}

/// Deletes a webhook endpoint and its delivery log.
///
/// Deliveries still queued for it are dropped.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "delete_webhook_endpoint",
    params(("endpoint_id" = Uuid, Path, description = "The endpoint id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not an admin or seller", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint, or another seller's", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/webhook-endpoints/{endpoint_id}")]
pub async fn delete_webhook_endpoint(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    db::run(&pool, move |c| service::delete(c, &user, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Rotates the endpoint's signing secret.
///
/// The new secret is in this answer only. The old one keeps signing for
/// `overlap_hours` (deliveries carry both signatures), so receivers switch
/// without losing a delivery.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "rotate_webhook_secret",
    request_body = RotateSecretRequest,
    params(("endpoint_id" = Uuid, Path, description = "The endpoint id")),
    responses(
        (status = 200, description = "The endpoint and its new secret", body = EndpointWithSecret),
        (status = 403, description = "Not an admin or seller", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint, or another seller's", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/webhook-endpoints/{endpoint_id}/rotate-secret")]
pub async fn rotate_webhook_secret(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<Uuid>,
    body: ValidatedJson<RotateSecretRequest>,
) -> Result<web::Json<EndpointWithSecret>, AppError> {
    let id = path.into_inner();
    let overlap = body.into_inner().overlap_hours.unwrap_or(24);
    let row = db::run(&pool, move |c| {
        service::rotate_secret(c, &user, id, overlap)
    })
    .await?;
    Ok(web::Json(row.into()))
}

/// Sends a `webhook.test` ping to the endpoint.
///
/// Queued now and delivered like any event (also to a disabled endpoint, to
/// check it before enabling it again); follow it in the delivery log.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "test_webhook_endpoint",
    params(("endpoint_id" = Uuid, Path, description = "The endpoint id")),
    responses(
        (status = 202, description = "The queued delivery", body = DeliveryResponse),
        (status = 403, description = "Not an admin or seller", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint, or another seller's", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/webhook-endpoints/{endpoint_id}/test")]
pub async fn test_webhook_endpoint(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let row = db::run(&pool, move |c| service::send_test(c, &user, id)).await?;
    Ok(HttpResponse::Accepted().json(DeliveryResponse::from(row)))
}

/// Lists the endpoint's deliveries, newest first.
///
/// Each with its status, attempts, the receiver's last status and the
/// start of its answer, the last error and the body sent.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "list_webhook_deliveries",
    params(("endpoint_id" = Uuid, Path, description = "The endpoint id"), ListDeliveriesQuery),
    responses(
        (status = 200, description = "A page of deliveries", body = DeliveryPage),
        (status = 403, description = "Not an admin or seller", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint, or another seller's", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/webhook-endpoints/{endpoint_id}/deliveries")]
pub async fn list_webhook_deliveries(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<Uuid>,
    query: crate::http::extract::Query<ListDeliveriesQuery>,
) -> Result<web::Json<DeliveryPage>, AppError> {
    let id = path.into_inner();
    let q = query.into_inner();
    let page = PageRequest::new(q.limit, q.cursor.as_deref())?;
    let (rows, next_cursor) =
        db::run(&pool, move |c| service::deliveries(c, &user, id, &page)).await?;
    Ok(web::Json(DeliveryPage {
        items: rows.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

/// Sends a delivery again now (whatever its status).
///
/// The same message (`webhook-id`), signed anew; its attempts keep counting.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "redeliver_webhook",
    params(("endpoint_id" = Uuid, Path, description = "The endpoint id"),
           ("delivery_id" = Uuid, Path, description = "The delivery id")),
    responses(
        (status = 202, description = "The delivery, due now", body = DeliveryResponse),
        (status = 403, description = "Not an admin or seller", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint or delivery, or another seller's", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}/redeliver")]
pub async fn redeliver_webhook(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, AppError> {
    let (endpoint, delivery) = path.into_inner();
    let row = db::run(&pool, move |c| {
        service::redeliver(c, &user, endpoint, delivery)
    })
    .await?;
    Ok(HttpResponse::Accepted().json(DeliveryResponse::from(row)))
}
