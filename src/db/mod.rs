//! Database plumbing: the connection pool, the one gateway from async
//! handlers to blocking Diesel (`run`), and the embedded migrations. No
//! business rules and no queries live here.

pub mod cached;
pub mod metrics;
pub mod schema;
pub mod text_enum;

use std::time::{Duration, Instant};

use actix_web::web;
use diesel::PgConnection;
use diesel::r2d2::{ConnectionManager, ManageConnection, Pool};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::AppError;

/// The migrations, compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// A pool of PostgreSQL connections.
pub type DbPool = Pool<Manager>;

/// How long a connection that just served a request successfully is trusted
/// without a check. Under load every checkout falls in this window, so no
/// `SELECT 1` is sent; an idle connection is checked before it is handed out.
/// (HikariCP's "alive bypass window" is the same idea.)
pub const TRUSTED_FOR: Duration = Duration::from_millis(500);

/// A pooled connection and what the pool knows of its health.
pub struct Conn {
    pg: PgConnection,
    /// When it last finished a request without error.
    good_at: Instant,
    /// Its last request failed: check it before it is used again.
    suspect: bool,
}

impl Conn {
    /// The connection itself.
    pub fn pg(&mut self) -> &mut PgConnection {
        &mut self.pg
    }
}

impl std::ops::Deref for Conn {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        &self.pg
    }
}

impl std::ops::DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.pg
    }
}

/// Diesel's r2d2 manager with a cheaper checkout: a connection is pinged
/// (`SELECT 1`) only when it has been idle longer than [`TRUSTED_FOR`] or
/// its last request failed. A connection that died with the database (a
/// restart) fails its next request, which marks it, so it is checked and
/// replaced before anyone gets it again.
pub struct Manager {
    inner: ConnectionManager<PgConnection>,
}

impl Manager {
    /// A manager for `url`.
    pub fn new(url: &str) -> Self {
        Self {
            inner: ConnectionManager::new(url),
        }
    }
}

impl ManageConnection for Manager {
    type Connection = Conn;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<Conn, Self::Error> {
        Ok(Conn {
            pg: self.inner.connect()?,
            good_at: Instant::now(),
            suspect: false,
        })
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), Self::Error> {
        if conn.suspect || conn.good_at.elapsed() > TRUSTED_FOR {
            self.inner.is_valid(&mut conn.pg)?;
            conn.suspect = false;
            conn.good_at = Instant::now();
        }
        Ok(())
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        self.inner.has_broken(&mut conn.pg)
    }
}

/// Builds a pool without connecting: the service starts even when the
/// database is down and answers 503 until it is back.
pub fn pool(url: &str, max_size: u32, timeout: Duration) -> DbPool {
    Pool::builder()
        .max_size(max_size)
        .min_idle(Some(1.min(max_size)))
        .connection_timeout(timeout)
        .build_unchecked(Manager::new(url))
}

/// Runs `f` with a pooled connection on the blocking thread pool. The
/// request waits at most the pool's connection timeout in all, queueing for
/// a blocking thread included; past it (database down or saturated) it is
/// 503. The outcome is noted on the connection (see [`Manager`]).
pub async fn run<T, F>(pool: &DbPool, f: F) -> Result<T, AppError>
where
    F: FnOnce(&mut PgConnection) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    let queued = Instant::now();
    web::block(move || {
        let budget = pool.connection_timeout().saturating_sub(queued.elapsed());
        let mut conn = pool.get_timeout(budget)?;
        let out = f(&mut conn.pg);
        match out {
            Ok(_) => conn.good_at = Instant::now(),
            Err(_) => conn.suspect = true,
        }
        out
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
