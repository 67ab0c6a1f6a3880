//! canasta: the cart, checkout, order, inventory and reporting backend of a
//! Venezuelan marketplace. Each domain is a folder (`api` -> `service` ->
//! `repo`); shared plumbing (configuration, database, errors, HTTP glue,
//! money) lives beside them.

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
pub mod invariants;
pub mod inventory;
pub mod jobs;
pub mod money;
pub mod orders;
pub mod outbox;
pub mod payments;
pub mod products;
pub mod rates;
pub mod seed;
pub mod sellers;
pub mod startup;
pub mod wishlists;
