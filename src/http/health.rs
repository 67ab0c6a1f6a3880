//! Liveness and readiness probes for load balancers and orchestrators.

use actix_web::{HttpResponse, get, web};
use diesel::RunQueryDsl;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::{self, DbPool};
use crate::error::AppError;

/// The body of a healthy probe.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthResponse {
    /// Always `ok`.
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Reports that the process is alive.
///
/// Never touches the database: use it as a liveness probe.
#[utoipa::path(
    tag = "health",
    operation_id = "get_liveness",
    security(()),
    responses((status = 200, description = "The process is alive", body = HealthResponse))
)]
#[get("/healthz")]
pub async fn liveness() -> HttpResponse {
    HttpResponse::Ok().json(HealthResponse { status: "ok" })
}

/// Reports whether the database answers.
///
/// Use it as a readiness probe: 503 while the database is unreachable.
#[utoipa::path(
    tag = "health",
    operation_id = "get_readiness",
    security(()),
    responses(
        (status = 200, description = "The database answers", body = HealthResponse),
        (status = 503, description = "The database is unreachable", body = crate::http::problem::Problem, content_type = "application/problem+json")
    )
)]
#[get("/readyz")]
pub async fn readiness(pool: web::Data<DbPool>) -> Result<HttpResponse, AppError> {
    db::run(&pool, |conn| {
        diesel::sql_query("SELECT 1")
            .execute(conn)
            .map_err(|e| AppError::Unavailable(Box::new(e)))
    })
    .await?;
    Ok(HttpResponse::Ok().json(HealthResponse { status: "ok" }))
}
