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

/// A section of `/metrics` a domain renders from the database (Prometheus
/// text format), registered at startup; plumbing knows no domain.
pub type ExtraMetrics =
    std::sync::Arc<dyn Fn(&mut diesel::PgConnection) -> Result<String, AppError> + Send + Sync>;

/// The sections `/metrics` adds to the process's own figures.
#[derive(Clone, Default)]
pub struct MetricsExtras(pub Vec<ExtraMetrics>);

/// Process metrics in the Prometheus text format.
///
/// SQL statements and transactions sent by this process, and the database
/// pool's connections. Counters start at zero when the process starts.
#[utoipa::path(
    tag = "health",
    operation_id = "get_metrics",
    security(()),
    responses((status = 200, description = "Prometheus text exposition", body = String, content_type = "text/plain; version=0.0.4"))
)]
#[get("/metrics")]
pub async fn metrics(
    pool: web::Data<DbPool>,
    extras: Option<web::Data<MetricsExtras>>,
) -> HttpResponse {
    let state = pool.state();
    let mut body = format!(
        "# HELP canasta_sql_statements_total SQL statements sent, BEGIN and COMMIT included.\n\
         # TYPE canasta_sql_statements_total counter\n\
         canasta_sql_statements_total {}\n\
         # HELP canasta_sql_transactions_total Transactions and savepoints begun.\n\
         # TYPE canasta_sql_transactions_total counter\n\
         canasta_sql_transactions_total {}\n\
         # HELP canasta_db_pool_connections Open database connections.\n\
         # TYPE canasta_db_pool_connections gauge\n\
         canasta_db_pool_connections {}\n\
         # HELP canasta_db_pool_idle_connections Idle database connections.\n\
         # TYPE canasta_db_pool_idle_connections gauge\n\
         canasta_db_pool_idle_connections {}\n",
        db::metrics::statements(),
        db::metrics::transactions(),
        state.connections,
        state.idle_connections,
    );
    for extra in extras.iter().flat_map(|e| e.0.iter()) {
        let extra = extra.clone();
        match db::run(&pool, move |c| extra(c)).await {
            Ok(text) => body.push_str(&text),
            // The database may be down: the process's own figures still go out.
            Err(err) => body.push_str(&format!("# a section is missing: {err}\n")),
        }
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(body)
}
