//! The database invariants canasta promises, as SQL any tool can run: the
//! integration tests check them after every stock-touching test, and the
//! load generator after every scenario. Each check returns one line per
//! offending row (empty when the invariant holds).

use diesel::prelude::*;
use diesel::sql_types::Text;

#[derive(QueryableByName)]
struct Problem {
    #[diesel(sql_type = Text)]
    problem: String,
}

fn run(conn: &mut PgConnection, sql: &str) -> QueryResult<Vec<String>> {
    Ok(diesel::sql_query(sql)
        .load::<Problem>(conn)?
        .into_iter()
        .map(|p| p.problem)
        .collect())
}

/// Stock: nothing negative, no oversell (`reserved <= on_hand`), `reserved`
/// equals the sum of active reservations, and the movement ledger replays
/// to `on_hand` and `reserved`.
pub fn inventory(conn: &mut PgConnection) -> QueryResult<Vec<String>> {
    run(
        conn,
        "SELECT s.product_id::text || ': on_hand=' || s.on_hand || ' reserved=' || s.reserved
             || ' active=' || COALESCE(a.held, 0) || ' ledger_on_hand=' || COALESCE(m.on_hand, 0)
             || ' ledger_reserved=' || COALESCE(m.reserved, 0) AS problem
         FROM stock_levels s
         LEFT JOIN (SELECT l.product_id, SUM(l.quantity) AS held FROM reservation_lines l
                    JOIN reservations r ON r.id = l.reservation_id AND r.status = 'active'
                    GROUP BY l.product_id) a ON a.product_id = s.product_id
         LEFT JOIN (SELECT product_id, SUM(on_hand_delta) AS on_hand, SUM(reserved_delta) AS reserved
                    FROM stock_movements GROUP BY product_id) m ON m.product_id = s.product_id
         WHERE s.reserved <> COALESCE(a.held, 0)
            OR s.on_hand <> COALESCE(m.on_hand, 0)
            OR s.reserved <> COALESCE(m.reserved, 0)
            OR s.on_hand < 0 OR s.reserved < 0 OR s.reserved > s.on_hand",
    )
}

/// Orders: every order's subtotal is the sum of its lines in both
/// currencies (the total equals its parts by a CHECK); a paid or dispatched
/// live order's stock is sold; a cancelled order was never dispatched, holds
/// nothing and its lines say so; the timeline ends at each status's current
/// value; one order per seller per checkout; every order has lines.
pub fn orders(conn: &mut PgConnection) -> QueryResult<Vec<String>> {
    let mut out = run(
        conn,
        "SELECT o.number || ' ' || o.status || '/' || o.payment_status || ' reservation=' || r.status
             || ' lines_usd=' || COALESCE(l.usd::text, 'none') || ' lines_ves=' || COALESCE(l.ves::text, 'none') AS problem
         FROM orders o
         JOIN reservations r ON r.id = o.reservation_id
         LEFT JOIN (SELECT order_id, SUM(line_usd) AS usd, SUM(line_ves) AS ves,
                           bool_and(status = 'cancelled') AS all_cancelled
                    FROM order_items GROUP BY order_id) l ON l.order_id = o.id
         WHERE l.order_id IS NULL
            OR o.subtotal_usd <> l.usd OR o.subtotal_ves <> l.ves
            OR o.total_usd <> o.subtotal_usd + o.delivery_usd + o.fees_usd + o.surcharge_usd
            OR o.total_ves <> o.subtotal_ves + o.delivery_ves + o.fees_ves + o.surcharge_ves
            OR (o.status <> 'cancelled' AND o.payment_status = 'paid' AND r.status <> 'committed')
            OR (o.status <> 'cancelled' AND o.shipping_status IN ('shipped', 'in_transit', 'delivered')
                AND r.status <> 'committed')
            OR (o.status = 'cancelled' AND o.shipping_status IN ('shipped', 'in_transit', 'delivered'))
            OR (o.status = 'cancelled' AND (r.status = 'active' OR NOT l.all_cancelled))",
    )?;
    // The timeline tells the same story as the statuses: the latest entry of
    // each field is the field's value now (two moves that both won would
    // leave an entry that the order does not show).
    out.extend(run(
        conn,
        "SELECT o.number || ' ' || h.field || ' is ' || CASE h.field WHEN 'status' THEN o.status
                    WHEN 'payment_status' THEN o.payment_status ELSE o.shipping_status END
                || ' but the timeline ends at ' || h.to_value AS problem
         FROM orders o
         JOIN (SELECT DISTINCT ON (order_id, field) order_id, field, to_value
               FROM order_history ORDER BY order_id, field, id DESC) h ON h.order_id = o.id
         WHERE h.to_value <> CASE h.field WHEN 'status' THEN o.status
                    WHEN 'payment_status' THEN o.payment_status ELSE o.shipping_status END",
    )?);
    out.extend(run(
        conn,
        "SELECT 'checkout ' || checkout_id || ' seller ' || seller_id || ': ' || count(*) || ' orders' AS problem
         FROM orders GROUP BY checkout_id, seller_id HAVING count(*) > 1",
    )?);
    Ok(out)
}

/// Reservations that should have ended: active past their expiry (beyond a
/// grace for the job's next round), or held for an owner that no longer
/// needs them (a checkout that is not open, an order not awaiting payment).
/// Run after the expiry job had its chance (e.g. after a crash test).
pub fn dangling_reservations(conn: &mut PgConnection) -> QueryResult<Vec<String>> {
    run(
        conn,
        "SELECT r.id::text || ' ' || r.owner_type || ' ' || r.owner_id || ' expires ' || r.expires_at AS problem
         FROM reservations r
         WHERE r.status = 'active'
           AND (r.expires_at < now() - interval '30 seconds'
                OR (r.owner_type = 'checkout' AND NOT EXISTS
                      (SELECT 1 FROM checkouts c WHERE c.id = r.owner_id AND c.status = 'open'))
                OR (r.owner_type = 'order' AND NOT EXISTS
                      (SELECT 1 FROM orders o WHERE o.reservation_id = r.id AND o.status = 'pending_payment')))",
    )
}

/// Every invariant, labelled.
pub fn all(conn: &mut PgConnection) -> QueryResult<Vec<String>> {
    let mut out: Vec<String> = inventory(conn)?
        .into_iter()
        .map(|p| format!("stock {p}"))
        .collect();
    out.extend(orders(conn)?.into_iter().map(|p| format!("order {p}")));
    Ok(out)
}
