//! Database plumbing: the connection pool, the one gateway from async
//! handlers to blocking Diesel (`run`), and the embedded migrations. No
//! business rules and no queries live here.

pub mod metrics;
pub mod schema;
pub mod text_enum;

use std::time::Duration;

use actix_web::web;
use diesel::PgConnection;
use diesel::r2d2::{ConnectionManager, Pool};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::AppError;

/// The migrations, compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// A pool of PostgreSQL connections.
pub type DbPool = Pool<ConnectionManager<PgConnection>>;

/// Builds a pool without connecting: the service starts even when the
/// database is down and answers 503 until it is back.
pub fn pool(url: &str, max_size: u32, timeout: Duration) -> DbPool {
    Pool::builder()
        .max_size(max_size)
        .min_idle(Some(1.min(max_size)))
        .connection_timeout(timeout)
        .build_unchecked(ConnectionManager::new(url))
}

/// Runs `f` with a pooled connection on the blocking thread pool. A pool
/// timeout (database down or saturated) becomes 503.
pub async fn run<T, F>(pool: &DbPool, f: F) -> Result<T, AppError>
where
    F: FnOnce(&mut PgConnection) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    web::block(move || {
        let mut conn = pool.get()?;
        f(&mut conn)
    })
    .await
    .map_err(AppError::internal)?
}

/// Applies every pending migration and returns the names applied.
pub fn migrate(conn: &mut PgConnection) -> Result<Vec<String>, AppError> {
    let applied = conn
        .run_pending_migrations(MIGRATIONS)
        .map_err(|e| AppError::internal(e.to_string()))?;
    Ok(applied.iter().map(ToString::to_string).collect())
}

/// The current time at PostgreSQL's precision (microseconds), so a value
/// echoed from memory equals the same value read back later.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(6)
}
