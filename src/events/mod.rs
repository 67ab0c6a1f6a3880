//! Real-time change events across instances. Writers call `notify` inside
//! their transaction (PostgreSQL delivers it at commit, to every instance);
//! each process runs one listener thread on its own connection
//! (`LISTEN canasta_events`) that fans events out to in-process subscribers
//! (the cart event streams). No state is shared between instances except
//! through PostgreSQL. The listener runs only while a stream is open.

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use crate::ids::{CartId, ProductId, SellerId};
use diesel::prelude::*;
use diesel::sql_types::Text;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

/// The PostgreSQL channel.
pub const CHANNEL: &str = "canasta_events";

/// Something changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A cart changed and now has `version`.
    Cart {
        /// The cart.
        id: CartId,
        /// Its new version.
        version: i32,
    },
    /// A product's price or availability changed.
    Product {
        /// The product.
        id: ProductId,
    },
    /// A seller was activated or deactivated (its products with it).
    Seller {
        /// The seller.
        id: SellerId,
    },
    /// An exchange rate took effect (posted for now, or a scheduled one
    /// reaching its `effective_at`).
    Rate,
}

/// Publishes an event when the caller's transaction commits.
pub fn notify(conn: &mut PgConnection, event: &Event) -> QueryResult<()> {
    diesel::select(Publish::of(event))
        .get_result::<bool>(conn)
        .map(|_| ())
}

/// `pg_notify(CHANNEL, event)` as an SQL expression (its value is true),
/// so a statement that changes something also publishes the change: one
/// round trip instead of two, e.g. `UPDATE .. RETURNING .., publish`.
#[derive(Debug, Clone, diesel::query_builder::QueryId)]
pub struct Publish {
    payload: String,
}

impl Publish {
    /// Publishes `event`.
    pub fn of(event: &Event) -> Self {
        Self {
            payload: serde_json::to_string(event).unwrap_or_default(),
        }
    }
}

impl diesel::expression::Expression for Publish {
    type SqlType = diesel::sql_types::Bool;
}

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for Publish {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> QueryResult<()> {
        out.push_sql("(pg_notify(");
        out.push_bind_param::<Text, _>(CHANNEL)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&self.payload)?;
        out.push_sql(") IS NOT NULL)");
        Ok(())
    }
}

impl<QS> diesel::expression::AppearsOnTable<QS> for Publish {}
impl<QS> diesel::expression::SelectableExpression<QS> for Publish {}
impl diesel::expression::ValidGrouping<()> for Publish {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

/// `pg_notify(CHANNEL, Event::Cart)` for the cart row an `UPDATE carts ..
/// RETURNING` statement writes, as an SQL expression: the event carries the
/// version the statement sets, which the caller does not know beforehand
/// (conversion bumps it in SQL). This module spells the JSON so that it is
/// exactly `Event::Cart`'s serde form (`{"type":"cart","id":..,"version":..}`).
#[derive(Debug, Clone, Copy, Default, diesel::query_builder::QueryId)]
pub struct PublishCartRow;

impl diesel::expression::Expression for PublishCartRow {
    type SqlType = diesel::sql_types::Bool;
}

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for PublishCartRow {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> QueryResult<()> {
        out.push_sql("(pg_notify(");
        out.push_bind_param::<Text, _>(CHANNEL)?;
        out.push_sql(
            ", json_build_object('type', 'cart', 'id', carts.id, 'version', carts.version)::text) IS NOT NULL)",
        );
        Ok(())
    }
}

impl<QS> diesel::expression::AppearsOnTable<QS> for PublishCartRow {}
impl<QS> diesel::expression::SelectableExpression<QS> for PublishCartRow {}
impl diesel::expression::ValidGrouping<()> for PublishCartRow {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

/// The in-process fan-out of events. The listener thread runs only while
/// someone subscribes: it starts with the first subscriber and stops after
/// the last one has gone, so an idle process holds no extra connection.
#[derive(Debug)]
pub struct Hub {
    tx: broadcast::Sender<Event>,
    database_url: String,
    poll: Duration,
    running: Mutex<bool>,
}

impl Hub {
    /// A hub for `database_url`; nothing runs until someone subscribes.
    pub fn new(database_url: String, poll: Duration) -> Arc<Self> {
        let (tx, _) = broadcast::channel(1024);
        Arc::new(Self {
            tx,
            database_url,
            poll,
            running: Mutex::new(false),
        })
    }

    /// A receiver of every event from now on. Starts the listener if needed
    /// and then waits (up to 2 s) until it listens, so nothing committed
    /// after this call is missed. Blocking: call it off the async threads.
    pub fn subscribe(self: &Arc<Self>) -> broadcast::Receiver<Event> {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        let rx = self.tx.subscribe();
        if !*running {
            let weak = Arc::downgrade(self);
            let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel(1);
            let spawned = std::thread::Builder::new()
                .name("canasta-events".into())
                .spawn(move || listen(&weak, &ready_tx));
            match spawned {
                Ok(_) => {
                    *running = true;
                    if ready_rx.recv_timeout(Duration::from_secs(2)).is_err() {
                        log::warn!(
                            "the event listener is slow to start; early events may be missed"
                        );
                    }
                }
                Err(err) => log::error!("cannot start the event listener: {err}"),
            }
        }
        rx
    }

    /// True when nobody listens any more; marks the listener stopped.
    fn should_stop(&self) -> bool {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if self.tx.receiver_count() == 0 {
            *running = false;
            true
        } else {
            false
        }
    }
}

fn listen(hub: &Weak<Hub>, ready: &std::sync::mpsc::SyncSender<()>) {
    let Some((url, poll)) = hub.upgrade().map(|h| (h.database_url.clone(), h.poll)) else {
        return;
    };
    let mut backoff = poll;
    loop {
        let mut conn = match PgConnection::establish(&url) {
            Ok(c) => c,
            Err(err) => {
                log::warn!("event listener cannot connect, retrying: {err}");
                if hub.upgrade().is_none_or(|h| h.should_stop()) {
                    return;
                }
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        if let Err(err) = diesel::sql_query(format!("LISTEN {CHANNEL}")).execute(&mut conn) {
            log::warn!("event listener cannot LISTEN, retrying: {err}");
            std::thread::sleep(backoff);
            continue;
        }
        backoff = poll;
        // Nobody may be waiting any more; that is fine.
        let _ = ready.try_send(());
        'poll: loop {
            let Some(hub) = hub.upgrade() else { return };
            if hub.should_stop() {
                return;
            }
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
