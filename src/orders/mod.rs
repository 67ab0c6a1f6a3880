//! Orders. For now: the lifecycle table (`state`) that checkout and the
//! order service will enforce. One order per seller per checkout; statuses
//! move only along `state`'s table, each move with a history row.

pub mod state;
