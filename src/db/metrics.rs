//! Counts every SQL statement the process sends (Diesel's instrumentation,
//! installed for all new connections), for `/metrics` and for measuring
//! statements per request. With `RUST_LOG=canasta::sql=trace` each
//! statement is also logged, which is how the pgbench scripts were copied.

use std::sync::atomic::{AtomicU64, Ordering};

use diesel::connection::{Instrumentation, InstrumentationEvent, set_default_instrumentation};

static STATEMENTS: AtomicU64 = AtomicU64::new(0);
static TRANSACTIONS: AtomicU64 = AtomicU64::new(0);

fn counter() -> Option<Box<dyn Instrumentation>> {
    Some(Box::new(|event: InstrumentationEvent<'_>| match event {
        InstrumentationEvent::StartQuery { query, .. } => {
            STATEMENTS.fetch_add(1, Ordering::Relaxed);
            log::trace!(target: "canasta::sql", "{query}");
        }
        InstrumentationEvent::BeginTransaction { .. } => {
            TRANSACTIONS.fetch_add(1, Ordering::Relaxed);
        }
        _ => {}
    }))
}

/// Installs the counter for every connection opened from now on.
pub fn install() {
    if let Err(e) = set_default_instrumentation(counter) {
        log::warn!("SQL statement counting is off: {e}");
    }
}

/// Statements sent since the process started (BEGIN and COMMIT included).
pub fn statements() -> u64 {
    STATEMENTS.load(Ordering::Relaxed)
}

/// Transactions (and savepoints) begun since the process started.
pub fn transactions() -> u64 {
    TRANSACTIONS.load(Ordering::Relaxed)
}
