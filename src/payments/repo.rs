//! Payments' statements: the rows of `payment_methods` and
//! `payment_submissions`.

use diesel::prelude::*;

use super::{Currency, MethodCode, PaymentMethodRow, PaymentSubmissionRow};
use crate::db::schema::{payment_methods as m, payment_submissions as p};
use crate::ids::OrderId;

/// Active methods, by code.
pub fn active(conn: &mut PgConnection) -> QueryResult<Vec<PaymentMethodRow>> {
    m::table
        .filter(m::active.eq(true))
        .order(m::code.asc())
        .select(PaymentMethodRow::as_select())
        .load(conn)
}

/// Every method, by code.
pub fn all(conn: &mut PgConnection) -> QueryResult<Vec<PaymentMethodRow>> {
    m::table
        .order(m::code.asc())
        .select(PaymentMethodRow::as_select())
        .load(conn)
}

/// An active method by code.
pub fn find_active(
    conn: &mut PgConnection,
    code: MethodCode,
) -> QueryResult<Option<PaymentMethodRow>> {
    m::table
        .filter(m::code.eq(code))
        .filter(m::active.eq(true))
        .select(PaymentMethodRow::as_select())
        .first(conn)
        .optional()
}

/// A method by code, locked.
pub fn lock(conn: &mut PgConnection, code: MethodCode) -> QueryResult<Option<PaymentMethodRow>> {
    m::table
        .filter(m::code.eq(code))
        .select(PaymentMethodRow::as_select())
        .for_update()
        .first(conn)
        .optional()
}

/// Stores a method's fields as they are on `row`.
pub fn save(conn: &mut PgConnection, row: &PaymentMethodRow) -> QueryResult<()> {
    diesel::update(m::table.find(row.id))
        .set(row)
        .execute(conn)
        .map(|_| ())
}

/// Inserts methods whose code is not there yet; returns how many were added.
pub fn insert_missing(conn: &mut PgConnection, rows: &[PaymentMethodRow]) -> QueryResult<usize> {
    diesel::insert_into(m::table)
        .values(rows)
        .on_conflict_do_nothing()
        .execute(conn)
}

/// The currency a method is paid in.
pub fn currency_of(conn: &mut PgConnection, code: MethodCode) -> QueryResult<Currency> {
    m::table
        .filter(m::code.eq(code))
        .select(m::currency)
        .first(conn)
}

/// Serialises reports of one reference (method, bank, reference key) until
/// the transaction ends, so a second report waits for the first and sees it.
pub fn lock_reference(conn: &mut PgConnection, reference: &str) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 42)) IS NULL AS done")
        .bind::<diesel::sql_types::Text, _>(reference)
        .get_result::<crate::db::Done>(conn)
        .map(|_| ())
}

/// Another order that reported this reference with the same method and bank.
pub fn reference_used_by(
    conn: &mut PgConnection,
    method: MethodCode,
    bank: &str,
    reference_key: &str,
    other_than: OrderId,
) -> QueryResult<Option<OrderId>> {
    p::table
        .filter(p::method.eq(method.as_str()))
        .filter(p::bank.eq(bank))
        .filter(p::reference_key.eq(reference_key))
        .filter(p::order_id.ne(other_than))
        .select(p::order_id)
        .first(conn)
        .optional()
}

/// Writes a submission.
pub fn insert_submission(conn: &mut PgConnection, row: &PaymentSubmissionRow) -> QueryResult<()> {
    diesel::insert_into(p::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// Marks the order's latest submitted payment `status` (with `reason`) in
/// one statement.
pub fn settle_latest(
    conn: &mut PgConnection,
    order_id: OrderId,
    status: &str,
    reason: &str,
) -> QueryResult<()> {
    use diesel::sql_types::{Text, Uuid as SqlUuid};
    diesel::sql_query(
        "UPDATE payment_submissions SET status = $2, reason = $3
         WHERE id = (SELECT id FROM payment_submissions
                     WHERE order_id = $1 AND status = 'submitted' ORDER BY id DESC LIMIT 1)",
    )
    .bind::<SqlUuid, _>(order_id)
    .bind::<Text, _>(status)
    .bind::<Text, _>(reason)
    .execute(conn)
    .map(|_| ())
}

/// An order's submissions, oldest first.
pub fn submissions_of(
    conn: &mut PgConnection,
    order_id: OrderId,
) -> QueryResult<Vec<PaymentSubmissionRow>> {
    p::table
        .filter(p::order_id.eq(order_id))
        .order(p::id.asc())
        .select(PaymentSubmissionRow::as_select())
        .load(conn)
}
