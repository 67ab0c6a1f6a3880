//! Database plumbing: the connection pool, the one gateway from async
//! handlers to blocking Diesel (`run`), and the embedded migrations. No
//! business rules and no queries live here.

pub mod cached;
pub mod id;
mod json;
pub mod metrics;
#[expect(
    missing_docs,
    reason = "Diesel table! output, checked against the database by tests/api/schema.rs"
)]
pub mod schema;
pub mod text_enum;

use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use diesel::PgConnection;
use diesel::r2d2::{ConnectionManager, ManageConnection, Pool, PooledConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use tokio::sync::oneshot;

use crate::error::AppError;

pub use json::Json;

/// The migrations, compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

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

/// The connection pool and the threads that use it. Database work from
/// every HTTP worker and background job goes into one first-come,
/// first-served queue, served by exactly as many threads as the pool has
/// connections: nobody races for a connection, and on two cores this more
/// than halved the add-to-cart p99 at 32 users (docs/benchmarks.md).
/// Cloning is cheap; the threads end when the last clone is dropped.
#[derive(Clone)]
pub struct DbPool {
    pool: Pool<Manager>,
    jobs: mpsc::Sender<Job>,
}

/// One piece of database work, run on one of the pool's threads.
type Job = Box<dyn FnOnce(&Pool<Manager>) + Send>;

impl DbPool {
    /// A connection for code outside `run` (startup, tests), waiting at most
    /// the pool timeout.
    pub fn get(&self) -> Result<PooledConnection<Manager>, diesel::r2d2::PoolError> {
        self.pool.get()
    }

    /// Open and idle connections.
    pub fn state(&self) -> diesel::r2d2::State {
        self.pool.state()
    }
}

/// Builds a pool without connecting: the service starts even when the
/// database is down and answers 503 until it is back.
pub fn pool(url: &str, max_size: u32, timeout: Duration) -> DbPool {
    let pool = Pool::builder()
        .max_size(max_size)
        .min_idle(Some(1.min(max_size)))
        .connection_timeout(timeout)
        .build_unchecked(Manager::new(url));
    let (jobs, queue) = mpsc::channel::<Job>();
    let queue = Arc::new(Mutex::new(queue));
    for n in 0..max_size {
        let (pool, queue) = (pool.clone(), Arc::clone(&queue));
        std::thread::Builder::new()
            .name(format!("canasta-db-{n}"))
            .spawn(move || serve_jobs(&pool, &queue))
            .expect("cannot start a database thread");
    }
    DbPool { pool, jobs }
}

fn serve_jobs(pool: &Pool<Manager>, queue: &Mutex<mpsc::Receiver<Job>>) {
    loop {
        let next = queue.lock().unwrap_or_else(|e| e.into_inner()).recv();
        let Ok(job) = next else { return };
        // A panicking job answers 500 (its sender is dropped); the thread
        // stays, and the connection it held is discarded by the pool.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(pool)));
    }
}

/// Runs `f` with a pooled connection on one of the pool's threads, in
/// arrival order. The request waits at most the pool's connection timeout
/// in all, queueing included; past it (database down or saturated) it is
/// 503. The outcome is noted on the connection (see [`Manager`]).
pub async fn run<T, F>(pool: &DbPool, f: F) -> Result<T, AppError>
where
    F: FnOnce(&mut PgConnection) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    let (tx, rx) = oneshot::channel();
    let queued = Instant::now();
    let job: Job = Box::new(move |pool: &Pool<Manager>| {
        let budget = pool.connection_timeout().saturating_sub(queued.elapsed());
        let out = match pool.get_timeout(budget) {
            Err(e) => Err(AppError::from(e)),
            Ok(mut conn) => {
                let out = f(&mut conn.pg);
                match out {
                    Ok(_) => conn.good_at = Instant::now(),
                    Err(_) => conn.suspect = true,
                }
                out
            }
        };
        let _ = tx.send(out);
    });
    pool.jobs
        .send(job)
        .map_err(|_| AppError::internal("the database threads have stopped"))?;
    rx.await
        .map_err(|_| AppError::internal("the database work panicked"))?
}

/// `text` for a `LIKE`/`ILIKE` pattern, its wildcards (`%`, `_`) and the
/// escape character taken literally.
pub fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// A result row whose columns are not read: for a statement run for its
/// effect that returns a row anyway (to stay prepared, see [`cached`]).
#[derive(diesel::QueryableByName)]
pub struct Done {}

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
