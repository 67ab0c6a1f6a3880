//! Cart use cases. Each runs in one transaction with the cart row locked, so
//! two devices editing one cart are serialised; `If-Match` turns a stale edit
//! into 412 instead of a lost update. Every read re-prices the lines against
//! the current product prices, stock and exchange rate, and reports notices.

use std::collections::{BTreeMap, HashMap};

use chrono::Duration;
use diesel::prelude::*;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::pricing::{self, CountedLine, LineFacts, Notice, Summary};
use super::{
    CartKind, CartRow, CartShareRow, CartStatus, ItemPriceChangeRow, ItemRow, NO_LINE_OWNER,
    ParticipantRole, ParticipantRow, SharedCart, SharedLine, repo,
};
use crate::auth::{Principal, tokens};
use crate::error::{AppError, ErrorCode, Shortage};
use crate::events::{Event, Publish};
use crate::inventory::StockRow;
use crate::money::DualPrice;
use crate::products::service::{self as products, ProductFacts};
use crate::rates::{self, RateRow};
use crate::{fees, inventory};

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
    fn actor(&self) -> inventory::service::Actor {
        match &self.principal {
            Some(p) => inventory::service::Actor::of(p),
            None => inventory::service::Actor {
                user_id: None,
                role: "guest",
            },
        }
    }
}

/// Releases the cart's soft hold, if it has one.
fn release_hold(
    conn: &mut PgConnection,
    cart_id: Uuid,
    actor: &inventory::service::Actor,
) -> Result<(), AppError> {
    if let Some((r, _)) =
        inventory::service::active_for_owner(conn, inventory::OwnerType::Cart, cart_id)?
    {
        inventory::service::end(conn, actor, r.id, inventory::service::Outcome::Release)?;
    }
    Ok(())
}

/// Holds the units of every line in the cart (not saved ones) for `ttl`
/// seconds, all or nothing (409 `insufficient_stock` otherwise).
fn place_hold(
    conn: &mut PgConnection,
    cart_id: Uuid,
    items: &[ItemRow],
    ttl: i64,
    actor: &inventory::service::Actor,
) -> Result<(), AppError> {
    let lines: Vec<(Uuid, i32)> = items
        .iter()
        .filter(|i| !i.saved_for_later)
        .map(|i| (i.product_id, i.quantity))
        .collect();
    if lines.is_empty() {
        return Ok(());
    }
    let new = inventory::service::NewReservation {
        owner_type: inventory::OwnerType::Cart,
        owner_id: cart_id,
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
struct Access {
    /// The signed-in caller.
    user: Option<Uuid>,
    /// The personal cart's owner or guest, or a group cart's owner.
    owner: bool,
    /// The cart is a group cart (lines belong to participants).
    group: bool,
}

fn authorize(
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
            let guest = cart.status == CartStatus::Active
                && matches!((&cart.guest_token_hash, &caller.cart_token), (Some(h), Some(t)) if tokens::matches(h, t));
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

fn empty_cart(user_id: Option<Uuid>, token_hash: Option<String>) -> CartRow {
    let now = crate::db::now();
    CartRow {
        kind: CartKind::Personal,
        invite_token_hash: None,
        id: Uuid::now_v7(),
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
fn lock_user_cart(conn: &mut PgConnection, user_id: Uuid) -> Result<CartRow, AppError> {
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
pub fn get_cart(conn: &mut PgConnection, caller: &Caller, id: Uuid) -> Result<CartView, AppError> {
    conn.transaction(|conn| {
        let cart = repo::lock(conn, id)?.ok_or(AppError::NotFound("cart"))?;
        authorize(conn, &cart, caller, false)?;
        view(conn, cart, false)
    })
}

/// Re-prices every line, stores what changed (bumping the version), and
/// builds the view. `touched` marks shopper activity (a write), which also
/// acknowledges earlier price changes (their notices end).
fn view(conn: &mut PgConnection, cart: CartRow, touched: bool) -> Result<CartView, AppError> {
    view_with(conn, cart, touched, &mut Memo::default())
}

/// Reads one cart write has already made (the lines as the write left them,
/// the rate, product facts, stock and the cart's own hold of the products
/// it looked at), so building the view after the write does not read them
/// again. Stock is forgotten when the write held or released some.
#[derive(Default)]
struct Memo {
    rate: Option<RateRow>,
    loaded: std::collections::HashSet<Uuid>,
    facts: HashMap<Uuid, ProductFacts>,
    stock: BTreeMap<Uuid, StockRow>,
    /// Units the cart's own soft hold keeps, per loaded product.
    held: BTreeMap<Uuid, i32>,
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
        cart_id: Uuid,
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
        cart_id: Uuid,
        ids: &[Uuid],
    ) -> Result<(), AppError> {
        let missing: Vec<Uuid> = ids
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
                cart_id,
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
    let ids: Vec<Uuid> = items.iter().map(|i| i.product_id).collect();
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
            quantity: item.quantity,
            stored: DualPrice {
                usd: item.unit_price_usd,
                ves: item.unit_price_ves,
            },
            pending_old: item
                .prev_unit_price_usd
                .zip(item.prev_unit_price_ves)
                .map(|(usd, ves)| DualPrice { usd, ves }),
            reduced_from: item.quantity_reduced_from,
            sellable: f.is_some_and(|f| f.sellable),
            price_usd: f.map_or(item.unit_price_usd, |f| f.product.price_usd),
            max_per_order: f.map_or(item.quantity, |f| f.product.max_per_order),
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
        if outcome.quantity != item.quantity {
            // The notice stays until the shopper's own next write, whoever reads first.
            item = repo::reduce_item(conn, item.id, outcome.quantity, item.quantity)?;
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
                    item_count += i64::from(l.row.quantity);
                    let unit = DualPrice {
                        usd: l.row.unit_price_usd,
                        ves: l.row.unit_price_ves,
                    };
                    subtotal = subtotal + unit.times(u32::try_from(l.row.quantity).unwrap_or(0));
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
        product_id: Uuid,
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
            product_id: f.product.id,
            requested: i64::from(quantity),
            available: i64::from(stock.available()),
        }]));
    }
    Ok(())
}

fn sellable<'a>(
    prefix: &str,
    facts: &'a HashMap<Uuid, ProductFacts>,
    product_id: Uuid,
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
    let ids: Vec<Uuid> = items
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
            let total = existing.map_or(0, |at| items[at].quantity) + quantity;
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
                        quantity: total,
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
            items[at] = repo::set_item(conn, item.id, item.quantity, true)?;
        }
        Op::MoveToCart { item_id } => {
            let at = line(&items, item_id)?;
            let item = &items[at];
            if !mine(item) {
                return Err(not_yours());
            }
            let f = sellable(prefix, facts, item.product_id)?;
            check_quantity(prefix, f, &stock[&item.product_id], item.quantity)?;
            items[at] = repo::set_item(conn, item.id, item.quantity, false)?;
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
fn lock_for_write(
    conn: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
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
    id: Uuid,
    if_match: Option<i32>,
    ops: Vec<(String, Op)>,
) -> Result<CartView, AppError> {
    conn.transaction(|conn| {
        let (cart, access) = lock_for_write(conn, caller, id)?;
        if let Some(expected) = if_match
            && expected != cart.version
        {
            return Err(AppError::PreconditionFailed {
                current_version: cart.version,
            });
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
        view_with(conn, cart, true, &mut memo)
    })
}

/// What merging did to one product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adjustment {
    /// The product.
    pub product_id: Uuid,
    /// Units the two carts held together.
    pub requested: i32,
    /// Units in the merged cart.
    pub merged_quantity: i32,
    /// `max_per_order`, `stock`, `unavailable` or `line_limit` (the cart holds its maximum of lines).
    pub reason: &'static str,
}

/// Merges a guest cart into the signed-in user's cart. Same products add up,
/// capped by the per-order maximum and what is available (units either
/// cart's own soft hold keeps count as available), and new lines by the
/// cart's line limit; every cap is reported. The guest cart becomes `merged` and its token stops working.
/// Merging the same guest cart again changes nothing.
pub fn merge(
    conn: &mut PgConnection,
    user: &Principal,
    policy: CartPolicy,
    guest_cart_id: Uuid,
    token: &str,
) -> Result<(CartView, Vec<Adjustment>, bool), AppError> {
    conn.transaction(|conn| {
        let target = lock_user_cart(conn, user.user_id)?;
        let guest = repo::lock(conn, guest_cart_id)?.ok_or(AppError::NotFound("cart"))?;
        let token_ok = guest
            .guest_token_hash
            .as_deref()
            .is_some_and(|h| tokens::matches(h, token));
        if !token_ok {
            return Err(AppError::NotFound("cart"));
        }
        if guest.status == CartStatus::Merged && guest.merged_into == Some(target.id) {
            return Ok((view(conn, target, false)?, vec![], true));
        }
        if guest.status != CartStatus::Active {
            return Err(AppError::NotFound("cart"));
        }
        let from = repo::items_of(conn, guest.id)?;
        let into = repo::items_of(conn, target.id)?;
        let ids: Vec<Uuid> = from.iter().map(|i| i.product_id).collect();
        let facts = products::facts(conn, &ids)?;
        // Both carts' own soft holds are released below and the merged lines
        // held again, so units either cart holds are available to the merge.
        let (stock, held_by_target) =
            inventory::service::stock_and_held(conn, &ids, inventory::OwnerType::Cart, target.id)?;
        let (_, held_by_guest) =
            inventory::service::stock_and_held(conn, &ids, inventory::OwnerType::Cart, guest.id)?;
        let own = |p: &Uuid| {
            held_by_target.get(p).copied().unwrap_or(0) + held_by_guest.get(p).copied().unwrap_or(0)
        };
        let mut lines = into.len();
        let mut adjustments = vec![];
        for item in from {
            let existing = into.iter().find(|i| i.product_id == item.product_id);
            let requested = existing
                .filter(|e| !e.saved_for_later)
                .map_or(0, |e| e.quantity)
                + item.quantity;
            let (cap, reason) = match facts.get(&item.product_id).filter(|f| f.sellable) {
                None => (0, "unavailable"),
                Some(f) => {
                    let available = stock[&item.product_id].available() + own(&item.product_id);
                    if f.product.max_per_order <= available {
                        (f.product.max_per_order, "max_per_order")
                    } else {
                        (available, "stock")
                    }
                }
            };
            let (cap, reason) = if existing.is_none() && lines >= MAX_LINES {
                (0, "line_limit")
            } else {
                (cap, reason)
            };
            let merged = if item.saved_for_later {
                if cap == 0 && reason == "line_limit" {
                    0
                } else {
                    item.quantity.min(cap.max(1))
                }
            } else {
                requested.min(cap)
            };
            if !item.saved_for_later && merged < requested {
                adjustments.push(Adjustment {
                    product_id: item.product_id,
                    requested,
                    merged_quantity: if merged > 0 {
                        merged
                    } else {
                        existing
                            .filter(|e| !e.saved_for_later)
                            .map_or(0, |e| e.quantity)
                    },
                    reason,
                });
            }
            match existing {
                Some(e) if !item.saved_for_later && merged > 0 => {
                    repo::set_item(conn, e.id, merged, false)?;
                }
                Some(_) => {}
                None if merged > 0 => {
                    lines += 1;
                    repo::insert_item(
                        conn,
                        &ItemRow {
                            id: Uuid::now_v7(),
                            cart_id: target.id,
                            quantity: merged,
                            added_by: Some(user.user_id),
                            // The guest line's price history stays with it.
                            price_changes: 0,
                            quantity_reduced_from: None,
                            ..item
                        },
                    )?
                }
                None => {}
            }
        }
        repo::set_status(conn, guest.id, CartStatus::Merged, Some(target.id))?;
        let actor = inventory::service::Actor::of(user);
        release_hold(conn, guest.id, &actor)?;
        if let Some(ttl) = policy.hold_seconds {
            // Merged quantities were capped by what is available, so this holds.
            release_hold(conn, target.id, &actor)?;
            let items = repo::items_of(conn, target.id)?;
            place_hold(conn, target.id, &items, ttl, &actor)?;
        }
        Ok((view(conn, target, true)?, adjustments, false))
    })
}

/// Marks carts idle for longer than `idle` as abandoned (users) or expired
/// (guests), claiming them with `SKIP LOCKED`; returns how many.
pub fn expire_idle(conn: &mut PgConnection, idle: Duration, batch: i64) -> Result<usize, AppError> {
    conn.transaction(|conn| {
        let carts = repo::claim_idle(conn, crate::db::now() - idle, batch)?;
        let system = inventory::service::Actor::system();
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

/// The products in a cart (to know which product events concern it).
pub fn product_ids(conn: &mut PgConnection, id: Uuid) -> Result<Vec<(Uuid, Uuid)>, AppError> {
    Ok(repo::items_of(conn, id)?
        .into_iter()
        .map(|i| (i.product_id, i.seller_id))
        .collect())
}

/// Moves a line to one of the user's wishlists (`None`: the default list).
pub fn move_to_wishlist(
    conn: &mut PgConnection,
    caller: &Caller,
    cart_id: Uuid,
    if_match: Option<i32>,
    item_id: Uuid,
    wishlist_id: Option<Uuid>,
) -> Result<CartView, AppError> {
    let user = caller
        .principal
        .clone()
        .ok_or_else(|| AppError::Unauthorized("wishlists need a signed-in user".into()))?;
    conn.transaction(|conn| {
        let product = repo::items_of(conn, cart_id)?
            .into_iter()
            .find(|i| i.id == item_id)
            .map(|i| i.product_id)
            .ok_or(AppError::NotFound("cart item"))?;
        let view = update_cart(
            conn,
            caller,
            cart_id,
            if_match,
            vec![(String::new(), Op::Remove { item_id })],
        )?;
        crate::wishlists::service::add_item(conn, &user, wishlist_id, product)?;
        Ok(view)
    })
}

/// Adds a product from one of the user's wishlists to the user's cart.
pub fn add_from_wishlist(
    conn: &mut PgConnection,
    user: &Principal,
    policy: CartPolicy,
    wishlist_id: Uuid,
    product_id: Uuid,
    quantity: i32,
) -> Result<CartView, AppError> {
    conn.transaction(|conn| {
        crate::wishlists::service::require_item(conn, user, wishlist_id, product_id)?;
        let cart = lock_user_cart(conn, user.user_id)?;
        let caller = Caller {
            principal: Some(user.clone()),
            cart_token: None,
            hold_seconds: policy.hold_seconds,
        };
        update_cart(
            conn,
            &caller,
            cart.id,
            None,
            vec![(
                String::new(),
                Op::Add {
                    product_id,
                    quantity,
                },
            )],
        )
    })
}

/// Shares a cart by a read-only link: a snapshot of its lines now. Returns
/// the share id and the token (shown once).
pub fn share_cart(
    conn: &mut PgConnection,
    caller: &Caller,
    cart_id: Uuid,
) -> Result<(Uuid, String, SharedCart), AppError> {
    let token = tokens::new_token()?;
    conn.transaction(|conn| {
        let (cart, _) = lock_for_write(conn, caller, cart_id)?;
        let view = view(conn, cart, false)?;
        let snapshot = SharedCart {
            lines: view
                .lines
                .iter()
                .filter(|l| !l.row.saved_for_later)
                .map(|l| {
                    let unit = DualPrice {
                        usd: l.row.unit_price_usd,
                        ves: l.row.unit_price_ves,
                    };
                    SharedLine {
                        product_id: l.row.product_id,
                        name: l.row.name.clone(),
                        sku: l.row.sku.clone(),
                        image_url: l.row.image_url.clone(),
                        seller_name: l.row.seller_name.clone(),
                        quantity: l.row.quantity,
                        unit_price: unit,
                        line_total: unit.times(u32::try_from(l.row.quantity).unwrap_or(0)),
                    }
                })
                .collect(),
            total: view.summary.total,
            shared_at: crate::db::now(),
        };
        let row = CartShareRow {
            id: Uuid::now_v7(),
            cart_id,
            token_hash: tokens::hash_token(&token),
            snapshot: serde_json::to_value(&snapshot).map_err(AppError::internal)?,
            created_at: snapshot.shared_at,
            revoked_at: None,
        };
        repo::insert_share(conn, &row)?;
        Ok((row.id, token.clone(), snapshot))
    })
}

/// Revokes a share link of the caller's cart.
pub fn revoke_cart_share(
    conn: &mut PgConnection,
    caller: &Caller,
    cart_id: Uuid,
    share_id: Uuid,
) -> Result<(), AppError> {
    conn.transaction(|conn| {
        let cart = repo::lock(conn, cart_id)?.ok_or(AppError::NotFound("cart"))?;
        authorize(conn, &cart, caller, true)?;
        match repo::revoke_share(conn, cart_id, share_id)? {
            0 => Err(AppError::NotFound("cart share")),
            _ => Ok(()),
        }
    })
}

/// A shared cart by its link token (404 once revoked).
pub fn shared_cart(conn: &mut PgConnection, token: &str) -> Result<SharedCart, AppError> {
    let share = repo::live_share(conn, &tokens::hash_token(token))?
        .ok_or(AppError::NotFound("shared cart"))?;
    serde_json::from_value(share.snapshot).map_err(AppError::internal)
}

/// Copies a shared cart's lines into the caller's cart (`target`, or the
/// signed-in user's cart), all or nothing, at today's prices.
pub fn copy_shared_cart(
    conn: &mut PgConnection,
    caller: &Caller,
    token: &str,
    target: Option<Uuid>,
) -> Result<CartView, AppError> {
    conn.transaction(|conn| {
        let shared = shared_cart(conn, token)?;
        let target = match (target, &caller.principal) {
            (Some(id), _) => id,
            (None, Some(user)) => lock_user_cart(conn, user.user_id)?.id,
            (None, None) => {
                return Err(AppError::invalid(
                    "cart_id",
                    "name the cart to copy into, or sign in",
                ));
            }
        };
        let ops = shared
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                (
                    format!("lines[{i}]."),
                    Op::Add {
                        product_id: l.product_id,
                        quantity: l.quantity,
                    },
                )
            })
            .collect();
        update_cart(conn, caller, target, None, ops)
    })
}

/// Opens a group cart owned by `user`; returns it and the invitation token.
pub fn create_group_cart(
    conn: &mut PgConnection,
    user: &Principal,
) -> Result<(CartView, String), AppError> {
    let token = tokens::new_token()?;
    conn.transaction(|conn| {
        let cart = CartRow {
            kind: CartKind::Group,
            invite_token_hash: Some(tokens::hash_token(&token)),
            ..empty_cart(Some(user.user_id), None)
        };
        repo::insert(conn, &cart)?;
        repo::upsert_participant(
            conn,
            &ParticipantRow {
                cart_id: cart.id,
                user_id: user.user_id,
                role: ParticipantRole::Owner,
                joined_at: cart.created_at,
                left_at: None,
            },
        )?;
        Ok((view(conn, cart, false)?, token.clone()))
    })
}

fn lock_group(conn: &mut PgConnection, cart_id: Uuid) -> Result<CartRow, AppError> {
    repo::lock(conn, cart_id)?
        .filter(|c| c.kind == CartKind::Group)
        .ok_or(AppError::NotFound("group cart"))
}

fn role_of(
    conn: &mut PgConnection,
    cart_id: Uuid,
    user: Uuid,
) -> Result<Option<ParticipantRole>, AppError> {
    Ok(repo::participants(conn, cart_id)?
        .into_iter()
        .find(|p| p.user_id == user)
        .map(|p| p.role))
}

/// Joins a group cart with its invitation token (harmless when already in).
pub fn join_group_cart(
    conn: &mut PgConnection,
    user: &Principal,
    cart_id: Uuid,
    token: &str,
) -> Result<CartView, AppError> {
    conn.transaction(|conn| {
        let cart = lock_group(conn, cart_id)?;
        let invited = cart
            .invite_token_hash
            .as_deref()
            .is_some_and(|h| tokens::matches(h, token));
        if !invited || cart.status != CartStatus::Active {
            return Err(AppError::NotFound("group cart"));
        }
        if role_of(conn, cart_id, user.user_id)?.is_some() {
            return view(conn, cart, false);
        }
        repo::upsert_participant(
            conn,
            &ParticipantRow {
                cart_id,
                user_id: user.user_id,
                role: ParticipantRole::Member,
                joined_at: crate::db::now(),
                left_at: None,
            },
        )?;
        view(conn, cart, true)
    })
}

/// Leaves a group cart; the member's lines go with them. The owner cannot leave.
pub fn leave_group_cart(
    conn: &mut PgConnection,
    user: &Principal,
    cart_id: Uuid,
) -> Result<(), AppError> {
    conn.transaction(|conn| {
        let cart = lock_group(conn, cart_id)?;
        match role_of(conn, cart_id, user.user_id)? {
            None => Err(AppError::NotFound("group cart")),
            Some(ParticipantRole::Owner) => Err(AppError::conflict(
                ErrorCode::Conflict,
                "the owner cannot leave a group cart; remove the others or let it expire",
            )),
            Some(ParticipantRole::Member) => {
                repo::delete_lines_of(conn, cart_id, user.user_id)?;
                repo::leave(conn, cart_id, user.user_id)?;
                view(conn, cart, true).map(|_| ())
            }
        }
    })
}

/// The owner removes a participant and their lines.
pub fn remove_participant(
    conn: &mut PgConnection,
    user: &Principal,
    cart_id: Uuid,
    member: Uuid,
) -> Result<CartView, AppError> {
    conn.transaction(|conn| {
        let cart = lock_group(conn, cart_id)?;
        match role_of(conn, cart_id, user.user_id)? {
            None => return Err(AppError::NotFound("group cart")),
            Some(ParticipantRole::Member) => {
                return Err(AppError::forbidden("only the owner removes participants"));
            }
            Some(ParticipantRole::Owner) if member == user.user_id => {
                return Err(AppError::conflict(
                    ErrorCode::Conflict,
                    "the owner cannot remove themselves",
                ));
            }
            Some(ParticipantRole::Owner) => {}
        }
        repo::delete_lines_of(conn, cart_id, member)?;
        if repo::leave(conn, cart_id, member)? == 0 {
            return Err(AppError::NotFound("participant"));
        }
        view(conn, cart, true)
    })
}

/// The owner issues a new invitation token (the old one stops working).
pub fn rotate_invite(
    conn: &mut PgConnection,
    user: &Principal,
    cart_id: Uuid,
) -> Result<String, AppError> {
    let token = tokens::new_token()?;
    conn.transaction(|conn| {
        lock_group(conn, cart_id)?;
        match role_of(conn, cart_id, user.user_id)? {
            Some(ParticipantRole::Owner) => {
                repo::set_invite(conn, cart_id, &tokens::hash_token(&token))?;
                Ok(token.clone())
            }
            Some(ParticipantRole::Member) => Err(AppError::forbidden("only the owner invites")),
            None => Err(AppError::NotFound("group cart")),
        }
    })
}

/// Whether `user` may check out the cart: a personal cart's owner, or a
/// group cart's owner only.
pub fn may_check_out(
    conn: &mut PgConnection,
    cart: &CartRow,
    user: &Principal,
) -> Result<bool, AppError> {
    Ok(match cart.kind {
        CartKind::Personal => cart.user_id == Some(user.user_id),
        CartKind::Group => role_of(conn, cart.id, user.user_id)? == Some(ParticipantRole::Owner),
    })
}

/// Ends the cart's `quantity_reduced` notices: the shopper was just told
/// (a checkout refused because quantities were lowered says which).
pub fn acknowledge_reductions(conn: &mut PgConnection, cart_id: Uuid) -> Result<(), AppError> {
    Ok(repo::acknowledge_reductions(conn, cart_id)?)
}

/// The cart as the checkout sees it: locked for the signed-in owner (a group
/// cart's owner only), active, re-priced.
pub fn checkout_view(
    conn: &mut PgConnection,
    user: &Principal,
    cart_id: Uuid,
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
    cart_id: Uuid,
    user: &Principal,
) -> Result<(), AppError> {
    release_hold(conn, cart_id, &inventory::service::Actor::of(user))
}

/// How long a stream ticket may wait to be used.
pub const STREAM_TICKET_SECONDS: i64 = 60;

/// Issues a single-use ticket for `cart_id`'s event stream, for clients
/// that cannot send headers on it (a browser's `EventSource`): whoever may
/// read the cart now gets one, valid for `STREAM_TICKET_SECONDS`. Only its
/// hash is stored.
pub fn issue_stream_ticket(
    conn: &mut PgConnection,
    caller: &Caller,
    cart_id: Uuid,
) -> Result<(String, chrono::DateTime<chrono::Utc>), AppError> {
    use crate::db::schema::cart_stream_tickets as t;
    let cart = repo::find(conn, cart_id)?.ok_or(AppError::NotFound("cart"))?;
    authorize(conn, &cart, caller, false)?;
    let ticket = tokens::new_token()?;
    let expires_at = crate::db::now() + Duration::seconds(STREAM_TICKET_SECONDS);
    diesel::insert_into(t::table)
        .values((
            t::ticket_hash.eq(tokens::hash_token(&ticket)),
            t::cart_id.eq(cart_id),
            t::expires_at.eq(expires_at),
            t::created_at.eq(crate::db::now()),
        ))
        .execute(conn)?;
    Ok((ticket, expires_at))
}

/// Uses a stream ticket for `cart_id` (once, before it expires) and reads
/// the cart; 404 for a ticket that is unknown, used, expired or for another
/// cart, so nothing is learnt from it.
pub fn redeem_stream_ticket(
    conn: &mut PgConnection,
    cart_id: Uuid,
    ticket: &str,
) -> Result<CartView, AppError> {
    use crate::db::schema::cart_stream_tickets as t;
    conn.transaction(|conn| {
        let now = crate::db::now();
        let used = diesel::update(
            t::table
                .find(tokens::hash_token(ticket))
                .filter(t::cart_id.eq(cart_id))
                .filter(t::used_at.is_null())
                .filter(t::expires_at.gt(now)),
        )
        .set(t::used_at.eq(now))
        .execute(conn)?;
        if used != 1 {
            return Err(AppError::NotFound("cart"));
        }
        let cart = repo::lock(conn, cart_id)?.ok_or(AppError::NotFound("cart"))?;
        view(conn, cart, false)
    })
}

/// Stream tickets deleted per transaction by the job.
pub const TICKET_BATCH: i64 = 500;

/// Deletes up to `batch` stream tickets that expired over an hour ago.
pub fn forget_stream_tickets(conn: &mut PgConnection, batch: i64) -> Result<usize, AppError> {
    use diesel::sql_types::{BigInt, Timestamptz};
    Ok(diesel::sql_query(
        "DELETE FROM cart_stream_tickets WHERE ticket_hash IN (
             SELECT ticket_hash FROM cart_stream_tickets WHERE expires_at < $1
             LIMIT $2 FOR UPDATE SKIP LOCKED)",
    )
    .bind::<Timestamptz, _>(crate::db::now() - Duration::hours(1))
    .bind::<BigInt, _>(batch)
    .execute(conn)?)
}
