//! One integration-test binary: the real server over HTTP against a real
//! PostgreSQL, one fresh database per test.

mod auth;
mod docs;
mod errors;
mod health;
mod helpers;
mod migrations;
mod products;
mod rates;
mod seed;
mod sellers;
