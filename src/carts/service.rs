//! Cart use cases. Each runs in one transaction with the cart row locked, so
//! two devices editing one cart are serialised; `If-Match` turns a stale edit
//! into 412 instead of a lost update. Every read re-prices the lines against
//! the current product prices, stock and exchange rate, and reports notices.
//!
//! This file holds the cart itself (access, the re-priced view, line writes
//! and batches, checkout's view); each sub-resource has its own file beside
//! it, re-exported here: `merge.rs` (guest merge), `shares.rs` (share links),
//! `group.rs` (group carts), `wishlist_moves.rs`, `stream.rs` (the event
//! stream's lookups and tickets).

use std::collections::{BTreeMap, HashMap};

use chrono::Duration;
use diesel::prelude::*;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::pricing::{self, CountedLine, LineFacts, Notice, Summary};
use super::{
    CartKind, CartRow, CartStatus, ItemPriceChangeRow, ItemRow, NO_LINE_OWNER, ParticipantRole,
    ParticipantRow, repo,
};
use crate::auth::{Principal, tokens};
use crate::error::{AppError, ErrorCode, Refused, Shortage};
use crate::events::{Event, Publish};
use crate::ids::{CartId, ProductId};
use crate::inventory::StockRow;
use crate::money::DualPrice;
use crate::money::Quantity;
use crate::products::service::{self as products, ProductFacts};
use crate::rates::{self, RateRow};
use crate::{fees, inventory};

pub use super::group::{
    create_group_cart, join_group_cart, leave_group_cart, may_check_out, remove_participant,
    rotate_invite,
};
pub use super::merge::{Adjustment, merge};
pub use super::shares::{copy_shared_cart, revoke_cart_share, share_cart, shared_cart};
pub use super::stream::{
    STREAM_TICKET_SECONDS, TICKET_BATCH, forget_stream_tickets, issue_stream_ticket, product_ids,
    redeem_stream_ticket,
};
pub use super::wishlist_moves::{add_from_wishlist, move_to_wishlist};

/// Most operations in one batch request.
pub const MAX_BATCH: usize = 50;
/// Most lines (in the cart and saved) one cart may hold.
pub const MAX_LINES: usize = 100;

/// Who is asking: a signed-in user, a guest holding a cart token, or both;
/// plus the cart policy in force (soft holds).
#[derive(Debug, Clone, Default)]
pub struct Caller {
    /// The authenticated user.
    pub principal: Option<Principal>,
    /// The guest cart token (`X-Cart-Token`).
    pub cart_token: Option<String>,
    /// Soft stock holds for the cart's lines, with this time-to-live in
    /// seconds (`CART_HOLD_SECONDS`); `None` is off.
    pub hold_seconds: Option<i64>,
}

/// Cart settings every request carries (set once at startup).
#[derive(Debug, Clone, Copy, Default)]
pub struct CartPolicy {
    /// Soft-hold time-to-live in seconds; `None` is off.
    pub hold_seconds: Option<i64>,
}

impl Caller {
    fn actor(&self) -> crate::auth::Actor {
        match &self.principal {
            Some(p) => crate::auth::Actor::of(p),
            None => crate::auth::Actor::guest(),
        }
    }
}

/// Releases the cart's soft hold, if it has one.
pub(super) fn release_hold(
    conn: &mut PgConnection,
    cart_id: CartId,
    actor: &crate::auth::Actor,
) -> Result<(), AppError> {
    if let Some((r, _)) =
        inventory::service::active_for_owner(conn, inventory::OwnerType::Cart, cart_id.uuid())?
    {
        inventory::service::end(conn, actor, r.id, inventory::service::Outcome::Release)?;
    }
    Ok(())
}

/// Holds the units of every line in the cart (not saved ones) for `ttl`
/// seconds, all or nothing (409 `insufficient_stock` otherwise).
pub(super) fn place_hold(
    conn: &mut PgConnection,
    cart_id: CartId,
    items: &[ItemRow],
    ttl: i64,
    actor: &crate::auth::Actor,
) -> Result<(), AppError> {
    let lines: Vec<(ProductId, i32)> = items
        .iter()
        .filter(|i| !i.saved_for_later)
        .map(|i| (i.product_id, i.quantity.get()))
        .collect();
    if lines.is_empty() {
        return Ok(());
    }
    let new = inventory::service::NewReservation {
        owner_type: inventory::OwnerType::Cart,
        owner_id: cart_id.uuid(),
        ttl_seconds: ttl,
        lines,
    };
    inventory::service::reserve(conn, actor, new).map(|_| ())
}

/// One line as shown: the row after re-pricing, whether it counts in the
/// totals, and its price history.
#[derive(Debug, Clone)]
pub struct LineView {
    /// The line.
    pub row: ItemRow,
    /// Counted in the totals (in the cart, sellable, in stock).
    pub counted: bool,
    /// Its price changes, oldest first.
    pub history: Vec<ItemPriceChangeRow>,
}

/// A cart as shown after re-pricing.
#[derive(Debug, Clone)]
pub struct CartView {
    /// The cart.
    pub cart: CartRow,
    /// Lines, oldest first (in the cart and saved for later).
    pub lines: Vec<LineView>,
    /// What the shopper should see.
    pub notices: Vec<Notice>,
    /// Money.
    pub summary: Summary,
    /// The rate used (none while the cart is empty and no rate exists).
    pub rate: Option<RateRow>,
    /// Group carts: who takes part and what each has in the cart.
    pub participants: Vec<ParticipantView>,
}

/// A participant of a group cart with their part of the total.
#[derive(Debug, Clone)]
pub struct ParticipantView {
    /// The participant.
    pub row: ParticipantRow,
    /// Units on their counted lines.
    pub item_count: i64,
    /// Sum of their counted lines.
    pub subtotal: DualPrice,
}

/// What the caller may do in a cart.
#[derive(Debug, Clone, Copy)]
pub(super) struct Access {
    /// The signed-in caller.
    user: Option<Uuid>,
    /// The personal cart's owner or guest, or a group cart's owner.
    owner: bool,
    /// The cart is a group cart (lines belong to participants).
    group: bool,
}

pub(super) fn authorize(
    conn: &mut PgConnection,
    cart: &CartRow,
    caller: &Caller,
    write: bool,
) -> Result<Access, AppError> {
    let user = caller.principal.as_ref().map(|p| p.user_id);
    let operator = !write
        && caller
            .principal
            .as_ref()
            .is_some_and(Principal::is_operator);
    match cart.kind {
        CartKind::Personal => {
            let owner = cart.user_id.is_some() && cart.user_id == user;
            let token_fits = match (&cart.guest_token_hash, &caller.cart_token) {
                (Some(hash), Some(token)) => tokens::matches(hash, token),
                _ => false,
            };
            let guest = cart.status == CartStatus::Active && token_fits;
            if owner || guest || operator {
                Ok(Access {
                    user,
                    owner: owner || guest,
                    group: false,
                })
            } else {
                Err(AppError::NotFound("cart"))
            }
        }
        CartKind::Group => {
            let member = match user {
                Some(u) => repo::participants(conn, cart.id)?
                    .into_iter()
                    .find(|p| p.user_id == u),
                None => None,
            };
            match member {
                Some(m) => Ok(Access {
                    user,
                    owner: m.role == ParticipantRole::Owner,
                    group: true,
                }),
                None if operator => Ok(Access {
                    user,
                    owner: false,
                    group: true,
                }),
                None => Err(AppError::NotFound("cart")),
            }
        }
    }
}

pub(super) fn empty_cart(user_id: Option<Uuid>, token_hash: Option<String>) -> CartRow {
    let now = crate::db::now();
    CartRow {
        kind: CartKind::Personal,
        invite_token_hash: None,
        id: CartId::now_v7(),
        user_id,
        guest_token_hash: token_hash,
        status: CartStatus::Active,
        version: 1,
        merged_into: None,
        created_at: now,
        updated_at: now,
        last_activity_at: now,
    }
}

/// Creates a guest cart; returns it and the token (shown once, stored hashed).
pub fn create_guest_cart(conn: &mut PgConnection) -> Result<(CartView, String), AppError> {
    let token = tokens::new_token()?;
    conn.transaction(|conn| {
        let cart = empty_cart(None, Some(tokens::hash_token(&token)));
        repo::insert(conn, &cart)?;
        Ok((view(conn, cart, false)?, token))
    })
}

/// The user's active cart, locked: reactivates the latest abandoned one, or creates one.
pub(super) fn lock_user_cart(conn: &mut PgConnection, user_id: Uuid) -> Result<CartRow, AppError> {
    if let Some(cart) = repo::lock_active_for_user(conn, user_id)? {
        return Ok(cart);
    }
    if let Some(mut cart) = repo::lock_latest_abandoned(conn, user_id)? {
        repo::set_status(conn, cart.id, CartStatus::Active, None)?;
        cart.status = CartStatus::Active;
        return Ok(cart);
    }
    // Two devices may create the cart at once: the unique index lets one win.
    repo::insert_if_no_active(conn, &empty_cart(Some(user_id), None))?;
    repo::lock_active_for_user(conn, user_id)?
        .ok_or_else(|| AppError::internal("the user's cart vanished"))
}

/// The signed-in user's cart (one active per user).
pub fn my_cart(conn: &mut PgConnection, user: &Principal) -> Result<CartView, AppError> {
    conn.transaction(|conn| {
        let cart = lock_user_cart(conn, user.user_id)?;
        view(conn, cart, false)
    })
}

/// Reads a cart (its owner, its guest token, or an operator).
pub fn get_cart(
    conn: &mut PgConnection,
    caller: &Caller,
    id: CartId,
) -> Result<CartView, AppError> {
    conn.transaction(|conn| {
        let cart = repo::lock(conn, id)?.ok_or(AppError::NotFound("cart"))?;
        authorize(conn, &cart, caller, false)?;
        view(conn, cart, false)
    })
}

/// Re-prices every line, stores what changed (bumping the version), and
/// builds the view. `touched` marks shopper activity (a write), which also
/// acknowledges earlier price changes (their notices end).
pub(super) fn view(
    conn: &mut PgConnection,
    cart: CartRow,
    touched: bool,
) -> Result<CartView, AppError> {
    view_with(conn, cart, touched, &mut Memo::default())
}

/// Reads one cart write has already made (the lines as the write left them,
/// the rate, product facts, stock and the cart's own hold of the products
/// it looked at), so building the view after the write does not read them
/// again. Stock is forgotten when the write held or released some.
#[derive(Default)]
struct Memo {
    rate: Option<RateRow>,
    loaded: std::collections::HashSet<ProductId>,
    facts: HashMap<ProductId, ProductFacts>,
    stock: BTreeMap<ProductId, StockRow>,
    /// Units the cart's own soft hold keeps, per loaded product.
    held: BTreeMap<ProductId, i32>,
    /// The cart's lines, oldest first, once read (kept in step by writes).
    items: Option<Vec<ItemRow>>,
}

impl Memo {
    fn rate(&mut self, conn: &mut PgConnection) -> Result<RateRow, AppError> {
        rate_once(&mut self.rate, conn)
    }

    /// The cart's lines: the ones in hand, or read now. The caller puts
    /// them back (`self.items = Some(..)`) after changing them.
    fn take_items(
        &mut self,
        conn: &mut PgConnection,
        cart_id: CartId,
    ) -> Result<Vec<ItemRow>, AppError> {
        match self.items.take() {
            Some(items) => Ok(items),
            None => Ok(repo::items_of(conn, cart_id)?),
        }
    }

    /// Product facts, stock and the cart's own hold for `ids`, read only
    /// for ids not read yet.
    fn products(
        &mut self,
        conn: &mut PgConnection,
        cart_id: CartId,
        ids: &[ProductId],
    ) -> Result<(), AppError> {
        let missing: Vec<ProductId> = ids
            .iter()
            .copied()
            .filter(|id| !self.loaded.contains(id))
            .collect();
        if !missing.is_empty() {
            self.facts.extend(products::facts(conn, &missing)?);
            let (stock, held) = inventory::service::stock_and_held(
                conn,
                &missing,
                inventory::OwnerType::Cart,
                cart_id.uuid(),
            )?;
            self.stock.extend(stock);
            self.held.extend(held);
            self.loaded.extend(missing);
        }
        Ok(())
    }

    /// Forgets stock (after this write held or released some).
    fn forget_stock(&mut self) {
        self.loaded.clear();
        self.facts.clear();
        self.stock.clear();
        self.held.clear();
    }
}

/// The current rate, read at most once into `slot`.
fn rate_once(slot: &mut Option<RateRow>, conn: &mut PgConnection) -> Result<RateRow, AppError> {
    if let Some(rate) = slot {
        return Ok(rate.clone());
    }
    let rate = rates::service::require_current_rate(conn)?;
    *slot = Some(rate.clone());
    Ok(rate)
}

fn view_with(
    conn: &mut PgConnection,
    cart: CartRow,
    touched: bool,
    memo: &mut Memo,
) -> Result<CartView, AppError> {
    let mut items = memo.take_items(conn, cart.id)?;
    if touched
        && items
            .iter()
            .any(|i| i.prev_unit_price_usd.is_some() || i.quantity_reduced_from.is_some())
    {
        repo::acknowledge_notices(conn, cart.id)?;
        for item in &mut items {
            item.prev_unit_price_usd = None;
            item.prev_unit_price_ves = None;
            item.quantity_reduced_from = None;
        }
    }
    let rate = if items.is_empty() {
        match memo.rate.clone() {
            Some(rate) => Some(rate),
            None => rates::service::current_rate(conn)?,
        }
    } else {
        Some(memo.rate(conn)?)
    };
    let ids: Vec<ProductId> = items.iter().map(|i| i.product_id).collect();
    memo.products(conn, cart.id, &ids)?;
    let (facts, stock, own) = (&memo.facts, &memo.stock, &memo.held);
    let mut changed = touched;
    let mut lines = Vec::with_capacity(items.len());
    let mut notices = vec![];
    let mut counted = vec![];
    for mut item in items {
        let Some(rate) = rate.as_ref() else { break };
        let f = facts.get(&item.product_id);
        let s = stock.get(&item.product_id);
        let line = LineFacts {
            item_id: item.id,
            product_id: item.product_id,
            saved: item.saved_for_later,
            quantity: item.quantity.get(),
            stored: DualPrice::new(item.unit_price_usd, item.unit_price_ves),
            pending_old: item
                .prev_unit_price_usd
                .zip(item.prev_unit_price_ves)
                .map(|(usd, ves)| DualPrice::new(usd, ves)),
            reduced_from: item.quantity_reduced_from,
            sellable: f.is_some_and(|f| f.sellable),
            price_usd: f.map_or(item.unit_price_usd, |f| f.product.price_usd),
            max_per_order: f.map_or(item.quantity.get(), |f| f.product.max_per_order),
            // Units this cart's own soft hold keeps are available to it.
            available: s.map_or(0, StockRow::available)
                + own.get(&item.product_id).copied().unwrap_or(0),
            low_stock_threshold: s.map_or(0, |s| s.low_stock_threshold),
        };
        let outcome = pricing::review_line(&line, rate.rate);
        if outcome.repriced {
            let new = ItemRow {
                unit_price_usd: outcome.unit.usd,
                unit_price_ves: outcome.unit.ves,
                rate_id: rate.id,
                rate: rate.rate,
                ..item.clone()
            };
            repo::reprice_item(conn, &item, &new)?;
            repo::insert_price_change(
                conn,
                &ItemPriceChangeRow {
                    id: Uuid::now_v7(),
                    item_id: item.id,
                    old_price_usd: item.unit_price_usd,
                    new_price_usd: new.unit_price_usd,
                    old_price_ves: item.unit_price_ves,
                    new_price_ves: new.unit_price_ves,
                    old_rate: item.rate,
                    new_rate: new.rate,
                    changed_at: crate::db::now(),
                },
            )?;
            item = ItemRow {
                prev_unit_price_usd: item.prev_unit_price_usd.or(Some(item.unit_price_usd)),
                prev_unit_price_ves: item.prev_unit_price_ves.or(Some(item.unit_price_ves)),
                price_changes: item.price_changes + 1,
                ..new
            };
            changed = true;
        }
        if outcome.quantity != item.quantity.get() {
            // The notice stays until the shopper's own next write, whoever reads first.
            item = repo::reduce_item(conn, item.id, outcome.quantity, item.quantity.get())?;
            changed = true;
        }
        if outcome.counted {
            counted.push(CountedLine {
                seller_id: item.seller_id,
                seller_name: item.seller_name.clone(),
                unit: outcome.unit,
                quantity: item.quantity,
            });
        }
        notices.extend(outcome.notices);
        lines.push(LineView {
            row: item,
            counted: outcome.counted,
            history: vec![],
        });
    }
    // Only lines that have recorded a price change have a history.
    let ids: Vec<Uuid> = lines
        .iter()
        .filter(|l| l.row.price_changes > 0)
        .map(|l| l.row.id)
        .collect();
    let mut history: HashMap<Uuid, Vec<ItemPriceChangeRow>> = HashMap::new();
    if !ids.is_empty() {
        for change in repo::price_changes(conn, &ids)? {
            history.entry(change.item_id).or_default().push(change);
        }
    }
    for line in &mut lines {
        line.history = history.remove(&line.row.id).unwrap_or_default();
    }
    let participants = match cart.kind {
        CartKind::Personal => vec![],
        CartKind::Group => repo::participants(conn, cart.id)?
            .into_iter()
            .map(|row| {
                let mine = lines
                    .iter()
                    .filter(|l| l.counted && l.row.line_owner == row.user_id);
                let (mut item_count, mut subtotal) = (0i64, DualPrice::zero());
                for l in mine {
                    item_count += i64::from(l.row.quantity.get());
                    let unit = DualPrice::new(l.row.unit_price_usd, l.row.unit_price_ves);
                    subtotal = subtotal + unit.times(l.row.quantity);
                }
                ParticipantView {
                    row,
                    item_count,
                    subtotal,
                }
            })
            .collect(),
    };
    let rules = fees::service::active_rules(conn)?;
    let summary = pricing::summarize(
        &counted,
        &rules,
        rate.as_ref().map_or(Decimal::ZERO, |r| r.rate),
    );
    let cart = if changed {
        // The cart is locked by this transaction, so its next version is
        // known and the event can go out with the bump.
        let next = Event::Cart {
            id: cart.id,
            version: cart.version + 1,
        };
        repo::bump(conn, cart.id, cart.version, touched, Publish::of(&next))?
            .ok_or_else(|| AppError::internal(format!("cart {} changed under its lock", cart.id)))?
    } else {
        cart
    };
    Ok(CartView {
        cart,
        lines,
        notices,
        summary,
        rate,
        participants,
    })
}

/// One change to a cart.
#[derive(Debug, Clone)]
pub enum Op {
    /// Add units of a product (increases an existing line).
    Add {
        /// The product.
        product_id: ProductId,
        /// Units to add.
        quantity: i32,
    },
    /// Set a line's quantity.
    SetQuantity {
        /// The line.
        item_id: Uuid,
        /// The new quantity.
        quantity: i32,
    },
    /// Remove a line.
    Remove {
        /// The line.
        item_id: Uuid,
    },
    /// Move a line to the saved-for-later list.
    SaveForLater {
        /// The line.
        item_id: Uuid,
    },
    /// Move a saved line back into the cart.
    MoveToCart {
        /// The line.
        item_id: Uuid,
    },
    /// Remove every line in the cart (saved lines stay).
    Clear,
}

fn field(prefix: &str, name: &str) -> String {
    format!("{prefix}{name}")
}

fn check_quantity(
    prefix: &str,
    f: &ProductFacts,
    stock: &StockRow,
    quantity: i32,
) -> Result<(), AppError> {
    if quantity > f.product.max_per_order {
        return Err(AppError::invalid(
            field(prefix, "quantity"),
            format!("at most {} per order", f.product.max_per_order),
        ));
    }
    if quantity > stock.available() {
        return Err(AppError::InsufficientStock(vec![Shortage {
            product_id: f.product.id.uuid(),
            requested: i64::from(quantity),
            available: i64::from(stock.available()),
        }]));
    }
    Ok(())
}

fn sellable<'a>(
    prefix: &str,
    facts: &'a HashMap<ProductId, ProductFacts>,
    product_id: ProductId,
) -> Result<&'a ProductFacts, AppError> {
    let f = facts
        .get(&product_id)
        .ok_or_else(|| AppError::invalid(field(prefix, "product_id"), "no product has this id"))?;
    if f.sellable {
        Ok(f)
    } else {
        Err(AppError::conflict(
            ErrorCode::ProductUnavailable,
            format!("{} is not available from its seller", f.product.name),
        ))
    }
}

fn not_yours() -> AppError {
    AppError::forbidden("in a group cart only the participant who added a line changes it")
}

fn apply_op(
    conn: &mut PgConnection,
    cart: &CartRow,
    access: Access,
    prefix: &str,
    op: Op,
    memo: &mut Memo,
) -> Result<(), AppError> {
    let mut items = memo.take_items(conn, cart.id)?;
    let owner_key = if access.group {
        access.user.unwrap_or(NO_LINE_OWNER)
    } else {
        NO_LINE_OWNER
    };
    let mine = |item: &ItemRow| !access.group || item.line_owner == owner_key;
    let line = |items: &[ItemRow], item_id: Uuid| -> Result<usize, AppError> {
        items
            .iter()
            .position(|i| i.id == item_id)
            .ok_or(AppError::NotFound("cart item"))
    };
    let product_of = |op: &Op| match op {
        Op::Add { product_id, .. } => Some(*product_id),
        Op::SetQuantity { item_id, .. } | Op::MoveToCart { item_id } => items
            .iter()
            .find(|i| i.id == *item_id)
            .map(|i| i.product_id),
        _ => None,
    };
    // Every line's product is read now (the same two statements), so the
    // view after the write reuses them.
    let ids: Vec<ProductId> = items
        .iter()
        .map(|i| i.product_id)
        .chain(product_of(&op))
        .collect();
    memo.products(conn, cart.id, &ids)?;
    let Memo {
        rate: memo_rate,
        facts,
        stock,
        ..
    } = memo;
    let (facts, stock) = (&*facts, &*stock);
    // Each write returns the line as stored, which replaces ours.
    match op {
        Op::Add {
            product_id,
            quantity,
        } => {
            let f = sellable(prefix, facts, product_id)?;
            let existing = items
                .iter()
                .position(|i| i.product_id == product_id && i.line_owner == owner_key);
            let total = existing.map_or(0, |at| items[at].quantity.get()) + quantity;
            check_quantity(prefix, f, &stock[&product_id], total)?;
            match existing {
                Some(at) => items[at] = repo::set_item(conn, items[at].id, total, false)?,
                None => {
                    if items.len() >= MAX_LINES {
                        return Err(AppError::invalid(
                            field(prefix, "product_id"),
                            format!("a cart holds at most {MAX_LINES} lines"),
                        ));
                    }
                    let rate = rate_once(memo_rate, conn)?;
                    let unit = DualPrice::at_rate(f.product.price_usd, rate.rate);
                    let now = crate::db::now();
                    let row = ItemRow {
                        id: Uuid::now_v7(),
                        cart_id: cart.id,
                        product_id,
                        seller_id: f.product.seller_id,
                        quantity: Quantity::try_from(total).map_err(AppError::internal)?,
                        saved_for_later: false,
                        name: f.product.name.clone(),
                        sku: f.product.sku.clone(),
                        image_url: f.product.image_url.clone(),
                        category: f.product.category.clone(),
                        seller_name: f.seller_name.clone(),
                        unit_price_usd: unit.usd,
                        unit_price_ves: unit.ves,
                        rate_id: rate.id,
                        rate: rate.rate,
                        prev_unit_price_usd: None,
                        prev_unit_price_ves: None,
                        added_by: access.user,
                        created_at: now,
                        updated_at: now,
                        line_owner: owner_key,
                        price_changes: 0,
                        quantity_reduced_from: None,
                    };
                    repo::insert_item(conn, &row)?;
                    items.push(row);
                    items.sort_by_key(|i| (i.created_at, i.id));
                }
            }
        }
        Op::SetQuantity { item_id, quantity } => {
            let at = line(&items, item_id)?;
            let item = &items[at];
            if !mine(item) {
                return Err(not_yours());
            }
            let f = sellable(prefix, facts, item.product_id)?;
            if !item.saved_for_later {
                check_quantity(prefix, f, &stock[&item.product_id], quantity)?;
            } else if quantity > f.product.max_per_order {
                return Err(AppError::invalid(
                    field(prefix, "quantity"),
                    format!("at most {} per order", f.product.max_per_order),
                ));
            }
            items[at] = repo::set_item(conn, item.id, quantity, item.saved_for_later)?;
        }
        Op::Remove { item_id } => {
            let at = line(&items, item_id)?;
            if !mine(&items[at]) && !access.owner {
                return Err(not_yours());
            }
            repo::delete_item(conn, items[at].id)?;
            items.remove(at);
        }
        Op::SaveForLater { item_id } => {
            let at = line(&items, item_id)?;
            let item = &items[at];
            if !mine(item) {
                return Err(not_yours());
            }
            items[at] = repo::set_item(conn, item.id, item.quantity.get(), true)?;
        }
        Op::MoveToCart { item_id } => {
            let at = line(&items, item_id)?;
            let item = &items[at];
            if !mine(item) {
                return Err(not_yours());
            }
            let f = sellable(prefix, facts, item.product_id)?;
            check_quantity(prefix, f, &stock[&item.product_id], item.quantity.get())?;
            items[at] = repo::set_item(conn, item.id, item.quantity.get(), false)?;
        }
        Op::Clear if access.group && !access.owner => {
            repo::clear_lines_of(conn, cart.id, owner_key)?;
            items.retain(|i| i.saved_for_later || i.line_owner != owner_key);
        }
        Op::Clear => {
            repo::clear(conn, cart.id)?;
            items.retain(|i| i.saved_for_later);
        }
    }
    memo.items = Some(items);
    Ok(())
}

/// Locks a cart for a write by `caller`: its owner or its guest token.
/// An abandoned cart comes back to life; other ended carts are 409.
pub(super) fn lock_for_write(
    conn: &mut PgConnection,
    caller: &Caller,
    id: CartId,
) -> Result<(CartRow, Access), AppError> {
    let mut cart = repo::lock(conn, id)?.ok_or(AppError::NotFound("cart"))?;
    let access = authorize(conn, &cart, caller, true)?;
    match cart.status {
        CartStatus::Active => Ok((cart, access)),
        CartStatus::Abandoned => {
            let user = cart.user_id.ok_or(AppError::NotFound("cart"))?;
            if cart.kind == CartKind::Personal && repo::lock_active_for_user(conn, user)?.is_some()
            {
                return Err(AppError::conflict(
                    ErrorCode::CartNotActive,
                    "the user has another active cart",
                ));
            }
            repo::set_status(conn, cart.id, CartStatus::Active, None)?;
            cart.status = CartStatus::Active;
            Ok((cart, access))
        }
        other => Err(AppError::conflict(
            ErrorCode::CartNotActive,
            format!("the cart is {other}"),
        )),
    }
}

/// Applies operations all or nothing. `if_match` (the `If-Match` version)
/// makes a stale write 412 `version_conflict`; without it the write applies
/// to the latest version. `prefixes` name each operation's fields in errors.
pub fn update_cart(
    conn: &mut PgConnection,
    caller: &Caller,
    id: CartId,
    if_match: Option<i32>,
    ops: Vec<(String, Op)>,
) -> Result<CartView, Refused<CartView>> {
    let outcome = conn.transaction(|conn| {
        let (cart, access) = lock_for_write(conn, caller, id)?;
        if let Some(expected) = if_match
            && expected != cart.version
        {
            // Stale: no operation runs; the cart as it is now goes back with
            // the refusal (re-priced, which a read commits, as any read does).
            return view(conn, cart, false).map(Err);
        }
        let actor = caller.actor();
        if caller.hold_seconds.is_some() {
            release_hold(conn, cart.id, &actor)?;
        }
        let mut memo = Memo::default();
        for (prefix, op) in ops {
            apply_op(conn, &cart, access, &prefix, op, &mut memo)?;
        }
        if let Some(ttl) = caller.hold_seconds {
            let items = memo.take_items(conn, cart.id)?;
            place_hold(conn, cart.id, &items, ttl, &actor)?;
            memo.items = Some(items);
            memo.forget_stock();
        }
        view_with(conn, cart, true, &mut memo).map(Ok)
    })?;
    outcome.map_err(|current| {
        let error = AppError::PreconditionFailed {
            current_version: current.cart.version,
        };
        Refused::with_current(error, current)
    })
}

/// Marks carts idle for longer than `idle` as abandoned (users) or expired
/// (guests), claiming them with `SKIP LOCKED`; returns how many.
pub fn expire_idle(conn: &mut PgConnection, idle: Duration, batch: i64) -> Result<usize, AppError> {
    conn.transaction(|conn| {
        let carts = repo::claim_idle(conn, crate::db::now() - idle, batch)?;
        let system = crate::auth::Actor::system();
        for cart in &carts {
            release_hold(conn, cart.id, &system)?;
            let status = if cart.user_id.is_some() {
                CartStatus::Abandoned
            } else {
                CartStatus::Expired
            };
            repo::set_status(conn, cart.id, status, None)?;
        }
        Ok(carts.len())
    })
}

/// Ends the cart's `quantity_reduced` notices: the shopper was just told
/// (a checkout refused because quantities were lowered says which).
pub fn acknowledge_reductions(conn: &mut PgConnection, cart_id: CartId) -> Result<(), AppError> {
    Ok(repo::acknowledge_reductions(conn, cart_id)?)
}

/// Converts the cart of a placed checkout: a new version its watchers are
/// told of, and no longer the shopper's active cart.
pub fn convert(conn: &mut PgConnection, cart_id: CartId) -> Result<(), AppError> {
    if repo::convert(conn, cart_id)? {
        Ok(())
    } else {
        Err(AppError::internal(format!(
            "the cart {cart_id} of a placed checkout is gone"
        )))
    }
}

/// The cart as the checkout sees it: locked for the signed-in owner (a group
/// cart's owner only), active, re-priced.
pub fn checkout_view(
    conn: &mut PgConnection,
    user: &Principal,
    cart_id: CartId,
) -> Result<CartView, AppError> {
    let caller = Caller {
        principal: Some(user.clone()),
        cart_token: None,
        hold_seconds: None,
    };
    let (cart, _) = lock_for_write(conn, &caller, cart_id)?;
    if !may_check_out(conn, &cart, user)? {
        return Err(AppError::forbidden(
            "only the group cart's owner checks out",
        ));
    }
    view(conn, cart, false)
}

/// Releases the cart's soft hold (the checkout's reservation takes over).
pub fn release_cart_hold(
    conn: &mut PgConnection,
    cart_id: CartId,
    user: &Principal,
) -> Result<(), AppError> {
    release_hold(conn, cart_id, &crate::auth::Actor::of(user))
}
