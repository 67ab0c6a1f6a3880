//! One integration-test binary: the real server over HTTP against a real
//! PostgreSQL, one fresh database per test.

#![expect(
    clippy::unwrap_used,
    reason = "tests and benchmarks fail loudly on a broken setup"
)]

mod addresses;
mod auth;
mod boundary;
mod carts;
mod checkout;
mod concurrency;
mod contract;
mod delivery;
mod docs;
mod errors;
mod fulfilment;
mod group_carts;
mod health;
mod helpers;
mod inventory;
mod migrations;
mod order_lists;
mod order_moves;
mod orders;
mod payments;
mod products;
mod rates;
mod reservations;
mod schema;
mod seed;
mod sellers;
mod webhooks;
mod wishlists;
