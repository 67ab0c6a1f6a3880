//! Real-time change events across instances. Writers call `notify` inside
//! their transaction (PostgreSQL delivers it at commit, to every instance);
//! each process runs one listener thread on its own connection
//! (`LISTEN canasta_events`) that fans events out to in-process subscribers
//! (the cart event streams). No state is shared between instances except
//! through PostgreSQL.

use std::sync::{Arc, Weak};
use std::time::Duration;

use diesel::prelude::*;
use diesel::sql_types::Text;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use uuid::Uuid;

/// The PostgreSQL channel.
pub const CHANNEL: &str = "canasta_events";

/// Something changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A cart changed and now has `version`.
    Cart {
        /// The cart.
        id: Uuid,
        /// Its new version.
        version: i32,
    },
    /// A product's price or availability changed.
    Product {
        /// The product.
        id: Uuid,
    },
    /// A new exchange rate was posted.
    Rate,
}

/// Publishes an event when the caller's transaction commits.
pub fn notify(conn: &mut PgConnection, event: &Event) -> QueryResult<()> {
    let payload = serde_json::to_string(event).unwrap_or_default();
    diesel::sql_query("SELECT pg_notify($1, $2)")
        .bind::<Text, _>(CHANNEL)
        .bind::<Text, _>(payload)
        .execute(conn)
        .map(|_| ())
}

/// The in-process fan-out of events.
#[derive(Debug)]
pub struct Hub {
    tx: broadcast::Sender<Event>,
}

impl Hub {
    /// Starts the listener thread for `database_url`; it stops when the hub is dropped.
    pub fn start(database_url: String, poll: Duration) -> Arc<Self> {
        let (tx, _) = broadcast::channel(1024);
        let hub = Arc::new(Self { tx });
        let weak = Arc::downgrade(&hub);
        let spawned = std::thread::Builder::new()
            .name("canasta-events".into())
            .spawn(move || listen(&database_url, &weak, poll));
        if let Err(err) = spawned {
            log::error!("cannot start the event listener: {err}");
        }
        hub
    }

    /// A receiver of every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }
}

fn listen(url: &str, hub: &Weak<Hub>, poll: Duration) {
    let mut backoff = poll;
    while hub.strong_count() > 0 {
        let mut conn = match PgConnection::establish(url) {
            Ok(c) => c,
            Err(err) => {
                log::warn!("event listener cannot connect, retrying: {err}");
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        if let Err(err) = diesel::sql_query(format!("LISTEN {CHANNEL}")).execute(&mut conn) {
            log::warn!("event listener cannot LISTEN, retrying: {err}");
            continue;
        }
        backoff = poll;
        'poll: loop {
            let Some(hub) = hub.upgrade() else { return };
            for notification in conn.notifications_iter() {
                match notification {
                    Ok(n) => match serde_json::from_str::<Event>(&n.payload) {
                        // No subscriber is fine: nobody is watching.
                        Ok(event) => drop(hub.tx.send(event)),
                        Err(err) => log::warn!("ignoring a malformed event {:?}: {err}", n.payload),
                    },
                    Err(err) => {
                        log::warn!("event listener lost its connection, reconnecting: {err}");
                        break 'poll;
                    }
                }
            }
            drop(hub);
            std::thread::sleep(poll);
        }
    }
}
