//! HTTP glue shared by every domain: problem+json errors, extractors
//! (authentication, validated JSON, pagination), health checks, the route
//! table and the OpenAPI document. No business rules.

pub mod extract;
pub mod fields;
pub mod health;
pub mod openapi;
pub mod pagination;
pub mod problem;
pub mod routes;
