//! Prepared-statement caching for the statements Diesel will not cache on
//! its own: every `UPDATE`, every `INSERT` of a struct with optional fields,
//! `ON CONFLICT ... DO UPDATE`, and every `sql_query`. Diesel prepares those
//! afresh on each call (PostgreSQL parses and plans them every time) because
//! their SQL text *may* vary without bound. Ours do not: their text is
//! fixed, or varies over a handful of shapes. `.cached()` opts such a
//! statement in; Diesel then keys its per-connection cache on the SQL text
//! and the bind types (never on the Rust type), so each distinct text is
//! prepared once per connection and a varying text can never run the wrong
//! statement.
//!
//! Run a cached statement with `load`, `get_result` or `get_results` (give
//! an `INSERT` or `UPDATE` a `RETURNING`): Diesel's `execute` hands the
//! statement on by reference, and its `&T` forwarding drops the opt-in, so
//! an executed statement is still prepared afresh each time.
//!
//! Do not use it on SQL built with `format!` from data, or on inserts of a
//! variable number of rows: every distinct text would stay in the cache.

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::{QueryResult, RunQueryDsl};

/// A statement Diesel may keep prepared (see the module documentation).
#[derive(Debug, Clone, Copy)]
pub struct Cached<Q>(Q);

/// `.cached()` on any PostgreSQL statement.
pub trait CachedExt: Sized {
    /// Lets Diesel keep this statement prepared, keyed on its SQL text.
    fn cached(self) -> Cached<Self> {
        Cached(self)
    }
}

impl<Q: QueryFragment<Pg>> CachedExt for Q {}

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for Cached<Q> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &Pg) -> QueryResult<bool> {
        Ok(true)
    }
}

/// No static id: the cache key is the SQL text, never the type.
impl<Q> QueryId for Cached<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for Cached<Q> {
    type SqlType = Q::SqlType;
}

impl<Q, Conn> RunQueryDsl<Conn> for Cached<Q> {}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::ExpressionMethods;
    use diesel::sql_types::Integer;

    #[test]
    fn an_update_is_safe_to_cache_only_when_wrapped() {
        use crate::db::schema::carts;
        let update = diesel::update(carts::table).set(carts::version.eq(carts::version + 1));
        assert!(!update.is_safe_to_cache_prepared(&Pg).unwrap());
        assert!(update.cached().is_safe_to_cache_prepared(&Pg).unwrap());
    }

    #[test]
    fn the_key_is_the_text_not_the_type() {
        let q = diesel::sql_query("SELECT $1")
            .bind::<Integer, _>(1)
            .cached();
        fn type_key<Q: QueryId>(_: &Q) -> Option<std::any::TypeId> {
            Q::query_id()
        }
        assert_eq!(type_key(&q), None);
        assert!(q.is_safe_to_cache_prepared(&Pg).unwrap());
        assert_eq!(
            diesel::debug_query::<Pg, _>(&q).to_string(),
            "SELECT $1 -- binds: [1]"
        );
    }
}
