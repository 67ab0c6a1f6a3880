//! Cursor pagination shared by every list endpoint: a bounded `limit`, and
//! an opaque `cursor` that carries the sort key and id of the last item
//! returned, so pages stay stable while rows are inserted.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{AppError, ErrorCode, FieldError};

/// Items per page when `limit` is absent.
pub const DEFAULT_LIMIT: i64 = 20;
/// The largest `limit` accepted.
pub const MAX_LIMIT: i64 = 100;

/// Where the previous page ended: the sort key (when the sort is not by id)
/// and the id of the last item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// The sort key of the last item, as text.
    #[serde(rename = "k", default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The id of the last item.
    #[serde(rename = "i")]
    pub id: Uuid,
}

impl Cursor {
    /// The opaque string clients send back.
    pub fn encode(&self) -> String {
        // Serialising a struct of strings and a UUID cannot fail.
        let json = serde_json::to_vec(self).unwrap_or_default();
        URL_SAFE_NO_PAD.encode(json)
    }

    /// Parses a cursor issued by `encode`; 400 otherwise.
    pub fn decode(raw: &str) -> Result<Self, AppError> {
        let invalid = || AppError::BadRequest {
            code: ErrorCode::InvalidCursor,
            detail: "the cursor was not issued by this endpoint".into(),
            errors: vec![FieldError::new("cursor", "is not a valid cursor")],
        };
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| invalid())?;
        serde_json::from_slice(&bytes).map_err(|_| invalid())
    }
}

/// A checked page request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// How many items to return.
    pub limit: i64,
    /// Where to continue from.
    pub after: Option<Cursor>,
}

impl PageRequest {
    /// Checks `limit` (1..=100, default 20) and decodes `cursor`.
    pub fn new(limit: Option<i64>, cursor: Option<&str>) -> Result<Self, AppError> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(AppError::bad_parameter(
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            ));
        }
        let after = cursor.map(Cursor::decode).transpose()?;
        Ok(Self { limit, after })
    }

    /// How many rows to fetch: one more than the page, to learn if another follows.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }

    /// Cuts the extra row off and builds the next cursor from the last item.
    pub fn finish<T>(
        &self,
        mut rows: Vec<T>,
        cursor_of: impl Fn(&T) -> Cursor,
    ) -> (Vec<T>, Option<String>) {
        let more = rows.len() as i64 > self.limit;
        rows.truncate(self.limit as usize);
        let next = if more {
            rows.last().map(|r| cursor_of(r).encode())
        } else {
            None
        };
        (rows, next)
    }
}

/// Declares a concrete page type for a list endpoint, so the OpenAPI
/// document names it (`ProductPage`) instead of a generic.
#[macro_export]
macro_rules! page_type {
    ($name:ident, $item:ty, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, serde::Serialize, utoipa::ToSchema)]
        pub struct $name {
            /// The items of this page, in the endpoint's stable order.
            pub items: Vec<$item>,
            /// Pass as `cursor` to get the next page; absent on the last page.
            #[serde(skip_serializing_if = "Option::is_none")]
            pub next_cursor: Option<String>,
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let c = Cursor {
            key: Some("12.50".into()),
            id: Uuid::now_v7(),
        };
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
    }

    #[test]
    fn foreign_cursors_and_bad_limits_are_rejected() {
        assert!(Cursor::decode("not-a-cursor").is_err());
        assert!(PageRequest::new(Some(0), None).is_err());
        assert!(PageRequest::new(Some(101), None).is_err());
        assert_eq!(PageRequest::new(None, None).unwrap().limit, 20);
    }

    #[test]
    fn finish_reports_a_next_cursor_only_when_more_rows_exist() {
        let page = PageRequest::new(Some(2), None).unwrap();
        let ids: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
        let (rows, next) = page.finish(ids.clone(), |id| Cursor { key: None, id: *id });
        assert_eq!(rows.len(), 2);
        assert_eq!(Cursor::decode(&next.unwrap()).unwrap().id, ids[1]);
        let (_, none) = page.finish(ids[..2].to_vec(), |id| Cursor { key: None, id: *id });
        assert!(none.is_none());
    }
}
