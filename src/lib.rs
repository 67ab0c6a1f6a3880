//! canasta: the cart, checkout, order, inventory and reporting backend of a
//! Venezuelan marketplace. Each domain is a folder (`api` -> `service` ->
//! `repo`); shared plumbing (configuration, database, errors, the HTTP kit,
//! pagination, money) lives beside them and imports no domain; the route
//! table (`routes`), the OpenAPI document (`openapi`), `startup`, `cli`,
//! `jobs` and `seed` sit on top and wire the domains together.

pub mod addresses;
pub mod auth;
pub mod carts;
pub mod checkout;
pub mod cli;
pub mod config;
pub mod db;
pub mod delivery;
pub mod error;
pub mod events;
pub mod fees;
pub mod http;
pub mod idempotency;
pub mod ids;
pub mod invariants;
pub mod inventory;
pub mod jobs;
pub mod money;
pub mod openapi;
pub mod orders;
pub mod outbox;
pub mod pagination;
pub mod payments;
pub mod products;
pub mod rates;
pub mod routes;
pub mod seed;
pub mod sellers;
pub mod startup;
pub mod webhooks;
pub mod wishlists;
