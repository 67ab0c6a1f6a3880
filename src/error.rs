//! The one error type of the service. Services and extractors return
//! `AppError`; `http::problem` turns it into RFC 9457 problem+json. It holds
//! no HTTP types, and internal causes stay here for the log, never for clients.

use std::error::Error as StdError;

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Serialize;
use utoipa::ToSchema;

/// Stable machine-readable error codes clients can switch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The body is not valid JSON, or is empty.
    MalformedJson,
    /// The body is JSON but fields are missing, unknown, of the wrong type or invalid.
    ValidationFailed,
    /// A path or query parameter does not parse or is out of range.
    InvalidParameter,
    /// The pagination cursor was not issued by this API.
    InvalidCursor,
    /// The `Content-Type` is not `application/json`.
    UnsupportedMediaType,
    /// The body exceeds the size limit.
    PayloadTooLarge,
    /// No, malformed, expired or wrongly signed bearer token.
    Unauthorized,
    /// The caller's role or ownership does not allow this.
    Forbidden,
    /// The resource does not exist (or is not visible to the caller).
    NotFound,
    /// No route matches the path.
    RouteNotFound,
    /// The route exists but not for this method.
    MethodNotAllowed,
    /// The request conflicts with the current state.
    Conflict,
    /// A product with this SKU already exists for the seller.
    DuplicateSku,
    /// A seller with this id already exists.
    DuplicateSeller,
    /// A rate with the same effective time already exists.
    DuplicateRate,
    /// A payment method with this code already exists.
    DuplicatePaymentMethod,
    /// The seller is inactive, so its catalog cannot change.
    SellerInactive,
    /// No USD->VES exchange rate is in effect yet.
    NoExchangeRate,
    /// Not enough available stock; `shortages` lists every short product.
    InsufficientStock,
    /// The stock change would break an invariant (remove reserved units, exceed limits).
    StockConflict,
    /// The reservation has already ended (committed, released or expired).
    ReservationNotActive,
    /// The alert is not open (already acknowledged or cleared).
    AlertNotOpen,
    /// The product or its seller is not active, so it cannot be added.
    ProductUnavailable,
    /// The cart is not active (converted, merged, expired).
    CartNotActive,
    /// `If-Match` named an older version; the body carries the current one.
    VersionConflict,
    /// Re-validating the cart changed it (quantities lowered); read the cart's notices first.
    CartChanged,
    /// The order cannot make this move from its current statuses.
    InvalidTransition,
    /// A required precondition header is missing (`Idempotency-Key`).
    PreconditionRequired,
    /// Prices or the rate moved since the review: `current` holds the new review.
    TotalChanged,
    /// This `Idempotency-Key` was used with another request.
    IdempotencyKeyReused,
    /// The checkout's stock hold has ended; start the checkout again.
    CheckoutExpired,
    /// Another transaction changed the same data; retrying may succeed.
    ConcurrentUpdate,
    /// The database is unreachable or the pool is exhausted; retry later.
    ServiceUnavailable,
    /// An unexpected server fault; details are in the server log.
    InternalError,
}

impl ErrorCode {
    /// The code as it appears on the wire (`insufficient_stock`).
    pub fn name(self) -> String {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::String(s)) => s,
            _ => "internal_error".into(),
        }
    }
}

/// One invalid field of a request, named by its JSON path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// JSON path of the field (`price_usd`, `lines[2].quantity`) or parameter name.
    pub field: String,
    /// What is wrong, in plain words.
    pub message: String,
}

impl FieldError {
    /// A field error from anything printable.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A product that cannot supply what was asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Shortage {
    /// The product.
    pub product_id: uuid::Uuid,
    /// Units asked for (summed over all lines of the product).
    pub requested: i64,
    /// Units available now.
    pub available: i64,
}

type Cause = Box<dyn StdError + Send + Sync>;

/// Every way a request can fail.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Malformed input (400).
    #[error("bad request: {detail}")]
    BadRequest {
        /// Stable code.
        code: ErrorCode,
        /// Human explanation.
        detail: String,
        /// Offending parameters, when known.
        errors: Vec<FieldError>,
    },
    /// Well-formed input that breaks the rules (422).
    #[error("validation failed")]
    Validation {
        /// Stable code.
        code: ErrorCode,
        /// Every invalid field.
        errors: Vec<FieldError>,
    },
    /// No credentials were sent (401; the challenge names no error, RFC 6750 §3.1).
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// Credentials were sent but are not acceptable (401): `invalid_token`,
    /// or `invalid_request` for a malformed `Authorization` header.
    #[error("invalid credentials ({error}): {detail}")]
    InvalidCredentials {
        /// The RFC 6750 error code for the challenge.
        error: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// Authenticated but not allowed (403).
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The resource does not exist or is hidden from the caller (404).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// No route for the path (404).
    #[error("no route for this path")]
    RouteNotFound,
    /// The path exists for other methods (405).
    #[error("method not allowed")]
    MethodNotAllowed {
        /// Methods the path accepts.
        allow: Vec<String>,
    },
    /// Conflicts with the current state (409).
    #[error("conflict: {detail}")]
    Conflict {
        /// Stable code.
        code: ErrorCode,
        /// Human explanation.
        detail: String,
    },
    /// Not enough stock for one or more products (409).
    #[error("insufficient stock for {} product(s)", .0.len())]
    InsufficientStock(Vec<Shortage>),
    /// `If-Match` is stale (412).
    #[error("the resource changed (now version {current_version})")]
    PreconditionFailed {
        /// The version the resource has now.
        current_version: i32,
    },
    /// A required header is missing (428).
    #[error("precondition required: {0}")]
    PreconditionRequired(String),
    /// The body is larger than allowed (413).
    #[error("payload too large")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// Wrong content type (415).
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// The database is unreachable or saturated (503).
    #[error("service unavailable")]
    Unavailable(#[source] Cause),
    /// Anything unexpected (500); the cause goes to the log only.
    #[error("internal error")]
    Internal(#[source] Cause),
}

impl AppError {
    /// A 422 for a single field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation {
            code: ErrorCode::ValidationFailed,
            errors: vec![FieldError::new(field, message)],
        }
    }

    /// A 400 for a single bad parameter.
    pub fn bad_parameter(field: impl Into<String>, message: impl Into<String>) -> Self {
        let (field, message) = (field.into(), message.into());
        Self::BadRequest {
            code: ErrorCode::InvalidParameter,
            detail: format!("{field}: {message}"),
            errors: vec![FieldError::new(field, message)],
        }
    }

    /// A 409 with a code.
    pub fn conflict(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            detail: detail.into(),
        }
    }

    /// A 403 with an explanation.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::Forbidden(detail.into())
    }

    /// A 500 wrapping an unexpected cause.
    pub fn internal(cause: impl Into<Cause>) -> Self {
        Self::Internal(cause.into())
    }

    /// The stable code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::BadRequest { code, .. } | Self::Validation { code, .. } => *code,
            Self::Conflict { code, .. } => *code,
            Self::InsufficientStock(_) => ErrorCode::InsufficientStock,
            Self::PreconditionFailed { .. } => ErrorCode::VersionConflict,
            Self::PreconditionRequired(_) => ErrorCode::PreconditionRequired,
            Self::Unauthorized(_) | Self::InvalidCredentials { .. } => ErrorCode::Unauthorized,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::RouteNotFound => ErrorCode::RouteNotFound,
            Self::MethodNotAllowed { .. } => ErrorCode::MethodNotAllowed,
            Self::PayloadTooLarge { .. } => ErrorCode::PayloadTooLarge,
            Self::UnsupportedMediaType => ErrorCode::UnsupportedMediaType,
            Self::Unavailable(_) => ErrorCode::ServiceUnavailable,
            Self::Internal(_) => ErrorCode::InternalError,
        }
    }
}

impl From<DieselError> for AppError {
    fn from(err: DieselError) -> Self {
        match err {
            DieselError::NotFound => Self::NotFound("resource"),
            DieselError::DatabaseError(kind, ref info) => match kind {
                DatabaseErrorKind::UniqueViolation => Self::conflict(
                    ErrorCode::Conflict,
                    "the request conflicts with an existing resource",
                ),
                DatabaseErrorKind::CheckViolation | DatabaseErrorKind::ForeignKeyViolation => {
                    log::warn!("constraint rejected a write: {}", info.message());
                    Self::conflict(
                        ErrorCode::Conflict,
                        "the request conflicts with the current state",
                    )
                }
                DatabaseErrorKind::SerializationFailure => Self::conflict(
                    ErrorCode::ConcurrentUpdate,
                    "a concurrent request changed the same data; retry",
                ),
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand => {
                    Self::Unavailable(Box::new(err))
                }
                _ => Self::Internal(Box::new(err)),
            },
            other => Self::Internal(Box::new(other)),
        }
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(err: diesel::r2d2::PoolError) -> Self {
        Self::Unavailable(Box::new(err))
    }
}

/// A refusal that comes with the resource as it is now, read by the same
/// transaction that refused, so the client can show it and retry without a
/// second request: a stale `If-Match` (412 `version_conflict`) with the
/// current cart, a moved total (409 `total_changed`) with the new review.
/// The handler renders `current` into `Problem.current` with
/// `http::problem::with_current`; callers that do not need it use `?` (it
/// converts to the plain `AppError`).
#[derive(Debug)]
pub enum Refused<T> {
    /// A refusal with nothing to show.
    Plain(AppError),
    /// The refusal and the resource now.
    WithCurrent {
        /// Why.
        error: AppError,
        /// The resource as it is now.
        current: Box<T>,
    },
}

impl<T> Refused<T> {
    /// `error`, with `current` to show.
    pub fn with_current(error: AppError, current: T) -> Self {
        Self::WithCurrent {
            error,
            current: Box::new(current),
        }
    }
}

impl<T> From<AppError> for Refused<T> {
    fn from(e: AppError) -> Self {
        Self::Plain(e)
    }
}

impl<T> From<DieselError> for Refused<T> {
    fn from(e: DieselError) -> Self {
        Self::Plain(e.into())
    }
}

impl<T> From<Refused<T>> for AppError {
    fn from(r: Refused<T>) -> Self {
        match r {
            Refused::Plain(e) | Refused::WithCurrent { error: e, .. } => e,
        }
    }
}
