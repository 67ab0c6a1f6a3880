//! The HTTP kit every domain's handlers use: problem+json errors,
//! extractors (authentication, validated JSON, query strings), request field
//! helpers, and the health probes. It imports no domain; the route table and
//! the OpenAPI document that wire the domains together live at the top of
//! the crate (`crate::routes`, `crate::openapi`). No business rules.

pub mod extract;
pub mod fields;
pub mod health;
pub mod problem;
