//! Reservation endpoints (`/reservations`): hold stock for an owner all or
//! nothing, read, release, commit or extend a hold.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::auth::Actor;
use crate::auth::Role;
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::http::extract::{AuthUser, ValidatedJson};
use crate::http::problem::Problem;
use crate::inventory::service::{self, NewReservation, Outcome};
use crate::inventory::{OwnerType, ReservationLineRow, ReservationRow, ReservationStatus};

/// One line of a reservation request.
#[derive(Debug, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReservationLineRequest {
    /// The product.
    pub product_id: Uuid,
    /// Units to hold.
    #[validate(range(min = 1, max = 100_000_000))]
    #[schema(minimum = 1, maximum = 100_000_000)]
    pub quantity: i32,
}

fn default_ttl() -> i64 {
    900
}

/// Body of `create_reservation`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateReservationRequest {
    /// What owns the hold.
    pub owner_type: OwnerType,
    /// The owning checkout, cart or order.
    pub owner_id: Uuid,
    /// Seconds until the expiry job releases it (default 900, at most 7 days).
    #[serde(default = "default_ttl")]
    #[validate(range(min = 1, max = 604_800))]
    #[schema(minimum = 1, maximum = 604_800, default = 900)]
    pub ttl_seconds: i64,
    /// Products and quantities; a product may repeat (its lines are summed).
    #[validate(length(min = 1, max = 100), nested)]
    #[schema(min_items = 1, max_items = 100)]
    pub lines: Vec<ReservationLineRequest>,
}

/// Body of `extend_reservation`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtendReservationRequest {
    /// New lifetime from now, in seconds (at most 7 days).
    #[validate(range(min = 1, max = 604_800))]
    #[schema(minimum = 1, maximum = 604_800)]
    pub ttl_seconds: i64,
}

/// One product held by a reservation.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReservationLineResponse {
    /// The product.
    pub product_id: Uuid,
    /// Units held (lines of the same product are summed).
    pub quantity: i32,
}

/// A reservation.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReservationResponse {
    /// Reservation id.
    pub id: Uuid,
    /// What owns it.
    pub owner_type: OwnerType,
    /// The owner.
    pub owner_id: Uuid,
    /// Active, committed, released or expired.
    pub status: ReservationStatus,
    /// When the expiry job releases it if still active.
    pub expires_at: DateTime<Utc>,
    /// When made.
    pub created_at: DateTime<Utc>,
    /// When it ended.
    pub ended_at: Option<DateTime<Utc>>,
    /// Products held, in product-id order.
    pub lines: Vec<ReservationLineResponse>,
}

impl ReservationResponse {
    fn new(r: ReservationRow, lines: Vec<ReservationLineRow>) -> Self {
        Self {
            id: r.id,
            owner_type: r.owner_type,
            owner_id: r.owner_id,
            // Past its expiry a hold is expired, whether or not the job has run.
            status: if super::service::lapsed(&r) {
                super::ReservationStatus::Expired
            } else {
                r.status
            },
            expires_at: r.expires_at,
            created_at: r.created_at,
            ended_at: r.ended_at,
            lines: lines
                .into_iter()
                .map(|l| ReservationLineResponse {
                    product_id: l.product_id.uuid(),
                    quantity: l.quantity.get(),
                })
                .collect(),
        }
    }
}

/// Holds stock for a checkout, cart or order, all or nothing.
///
/// Admins (and the services of other domains). Lines of the same product are
/// summed before checking; a shortfall answers 409 `insufficient_stock` with
/// every short product in `shortages`, and holds nothing. The hold is released
/// by the expiry job after `ttl_seconds` unless committed or released first.
#[utoipa::path(
    tag = "reservations",
    operation_id = "create_reservation",
    request_body = CreateReservationRequest,
    responses(
        (status = 201, description = "The stock is held", body = ReservationResponse),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not enough stock (`insufficient_stock`, with `shortages`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/reservations")]
pub async fn create_reservation(
    pool: web::Data<DbPool>,
    user: AuthUser,
    body: ValidatedJson<CreateReservationRequest>,
) -> Result<HttpResponse, AppError> {
    user.require_any(&[Role::Admin])?;
    let b = body.into_inner();
    let new = NewReservation {
        owner_type: b.owner_type,
        owner_id: b.owner_id,
        ttl_seconds: b.ttl_seconds,
        lines: b
            .lines
            .iter()
            .map(|l| (l.product_id.into(), l.quantity))
            .collect(),
    };
    let actor = Actor::of(&user);
    let (r, lines) = db::run(&pool, move |c| service::reserve(c, &actor, new)).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/reservations/{}", r.id)))
        .json(ReservationResponse::new(r, lines)))
}

/// Reads a reservation with its lines.
///
/// Operators (admin, support).
#[utoipa::path(
    tag = "reservations",
    operation_id = "get_reservation",
    params(("reservation_id" = Uuid, Path, description = "The reservation id")),
    responses(
        (status = 200, description = "The reservation", body = ReservationResponse),
        (status = 403, description = "Not an operator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such reservation", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/reservations/{reservation_id}")]
pub async fn get_reservation(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> Result<web::Json<ReservationResponse>, AppError> {
    user.require_any(&[Role::Admin, Role::Support])?;
    let id = path.into_inner();
    let (r, lines) = db::run(&pool, move |c| service::get_reservation(c, id)).await?;
    Ok(web::Json(ReservationResponse::new(r, lines)))
}

async fn end_reservation(
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: Uuid,
    outcome: Outcome,
) -> Result<web::Json<ReservationResponse>, AppError> {
    user.require_any(&[Role::Admin])?;
    let actor = Actor::of(&user);
    let (r, lines) = db::run(&pool, move |c| {
        service::end(c, &actor, id, outcome)?;
        service::get_reservation(c, id)
    })
    .await?;
    Ok(web::Json(ReservationResponse::new(r, lines)))
}

/// Releases a reservation: its units become available again.
///
/// Admins. 409 `reservation_not_active` when it already ended.
#[utoipa::path(
    tag = "reservations",
    operation_id = "release_reservation",
    params(("reservation_id" = Uuid, Path, description = "The reservation id")),
    responses(
        (status = 200, description = "The released reservation", body = ReservationResponse),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such reservation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already ended (`reservation_not_active`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/reservations/{reservation_id}/release")]
pub async fn release_reservation(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> Result<web::Json<ReservationResponse>, AppError> {
    end_reservation(pool, user, path.into_inner(), Outcome::Release).await
}

/// Commits a reservation: its units are sold and leave the stock.
///
/// Admins. Both `on_hand` and `reserved` drop by the held units.
#[utoipa::path(
    tag = "reservations",
    operation_id = "commit_reservation",
    params(("reservation_id" = Uuid, Path, description = "The reservation id")),
    responses(
        (status = 200, description = "The committed reservation", body = ReservationResponse),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such reservation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already ended (`reservation_not_active`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/reservations/{reservation_id}/commit")]
pub async fn commit_reservation(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> Result<web::Json<ReservationResponse>, AppError> {
    end_reservation(pool, user, path.into_inner(), Outcome::Commit).await
}

/// Extends an active reservation's expiry.
///
/// Admins. The new expiry is `ttl_seconds` from now.
#[utoipa::path(
    tag = "reservations",
    operation_id = "extend_reservation",
    request_body = ExtendReservationRequest,
    params(("reservation_id" = Uuid, Path, description = "The reservation id")),
    responses(
        (status = 200, description = "The reservation with its new expiry", body = ReservationResponse),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such reservation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already ended (`reservation_not_active`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/reservations/{reservation_id}/extend")]
pub async fn extend_reservation(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<Uuid>,
    body: ValidatedJson<ExtendReservationRequest>,
) -> Result<web::Json<ReservationResponse>, AppError> {
    user.require_any(&[Role::Admin])?;
    let id = path.into_inner();
    let ttl = body.into_inner().ttl_seconds;
    let (r, lines) = db::run(&pool, move |c| {
        service::extend(c, id, ttl)?;
        service::get_reservation(c, id)
    })
    .await?;
    Ok(web::Json(ReservationResponse::new(r, lines)))
}
