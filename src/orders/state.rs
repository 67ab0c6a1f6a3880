//! The order lifecycle in one table (design §6). Three statuses move side by
//! side: the order (`pending_payment -> processing -> completed`, and
//! `cancelled` from the first two), its payment and its shipping. Every
//! allowed move, and who may make it, is listed here and nowhere else; the
//! service enforces it in SQL with a conditional update on the current
//! status, so two concurrent moves cannot both win.

crate::text_enum! {
    /// The order's main status.
    pub enum OrderStatus {
        /// Placed; waiting for the payment.
        PendingPayment = "pending_payment",
        /// Paid; the seller prepares and ships it.
        Processing = "processing",
        /// Delivered.
        Completed = "completed",
        /// Cancelled (stock released or returned).
        Cancelled = "cancelled",
    }
}

crate::text_enum! {
    /// The payment's status.
    pub enum PaymentStatus {
        /// Nothing submitted yet.
        Pending = "pending",
        /// The buyer submitted a reference; the seller or an operator checks it.
        AwaitingVerification = "awaiting_verification",
        /// Money received.
        Paid = "paid",
        /// Rejected or failed; the buyer may submit again.
        Failed = "failed",
        /// Fully refunded.
        Refunded = "refunded",
        /// Partly refunded.
        PartiallyRefunded = "partially_refunded",
    }
}

crate::text_enum! {
    /// The shipment's status.
    pub enum ShippingStatus {
        /// Not started.
        NotShipped = "not_shipped",
        /// The seller is packing it.
        Preparing = "preparing",
        /// Handed to the carrier (or ready for pickup).
        Shipped = "shipped",
        /// On its way.
        InTransit = "in_transit",
        /// Received by the buyer.
        Delivered = "delivered",
        /// Came back.
        Returned = "returned",
    }
}

crate::text_enum! {
    /// An order line's status; it follows the order (see `item_status`).
    pub enum ItemStatus {
        /// Held for the order, not paid yet.
        Reserved = "reserved",
        /// Paid: the units left the stock.
        Sold = "sold",
        /// On its way.
        Shipped = "shipped",
        /// Received.
        Delivered = "delivered",
        /// The order was cancelled.
        Cancelled = "cancelled",
        /// Came back.
        Returned = "returned",
    }
}

/// The status an order's lines have when the order is at `now`: held while
/// the order awaits payment (or, paid at delivery, its dispatch), sold once
/// it is processing, then following the shipment.
pub fn item_status(now: Statuses) -> ItemStatus {
    match (now.order, now.shipping) {
        (OrderStatus::Cancelled, _) => ItemStatus::Cancelled,
        (_, ShippingStatus::Returned) => ItemStatus::Returned,
        (_, ShippingStatus::Delivered) => ItemStatus::Delivered,
        (_, ShippingStatus::Shipped | ShippingStatus::InTransit) => ItemStatus::Shipped,
        (OrderStatus::PendingPayment, _) => ItemStatus::Reserved,
        _ => ItemStatus::Sold,
    }
}

/// Who moves a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mover {
    /// The buyer.
    Buyer,
    /// The order's seller.
    Seller,
    /// An operator (admin or support).
    Operator,
    /// A job or a payment provider's webhook.
    System,
}

use Mover::{Buyer, Operator, Seller, System};

/// The allowed order moves and who may make them.
pub const ORDER_MOVES: &[(OrderStatus, OrderStatus, &[Mover])] = &[
    (
        OrderStatus::PendingPayment,
        OrderStatus::Processing,
        &[Seller, Operator, System],
    ),
    (
        OrderStatus::PendingPayment,
        OrderStatus::Cancelled,
        &[Buyer, Seller, Operator, System],
    ),
    (
        OrderStatus::Processing,
        OrderStatus::Completed,
        &[Seller, Operator, System],
    ),
    (
        OrderStatus::Processing,
        OrderStatus::Cancelled,
        &[Seller, Operator],
    ),
];

/// The allowed payment moves and who may make them.
pub const PAYMENT_MOVES: &[(PaymentStatus, PaymentStatus, &[Mover])] = &[
    (
        PaymentStatus::Pending,
        PaymentStatus::AwaitingVerification,
        &[Buyer],
    ),
    (
        PaymentStatus::Pending,
        PaymentStatus::Paid,
        &[Seller, Operator, System],
    ),
    (PaymentStatus::Pending, PaymentStatus::Failed, &[System]),
    (
        PaymentStatus::AwaitingVerification,
        PaymentStatus::Paid,
        &[Seller, Operator],
    ),
    (
        PaymentStatus::AwaitingVerification,
        PaymentStatus::Failed,
        &[Seller, Operator],
    ),
    (
        PaymentStatus::Failed,
        PaymentStatus::AwaitingVerification,
        &[Buyer],
    ),
    (
        PaymentStatus::Paid,
        PaymentStatus::Refunded,
        &[Seller, Operator],
    ),
    (
        PaymentStatus::Paid,
        PaymentStatus::PartiallyRefunded,
        &[Seller, Operator],
    ),
    (
        PaymentStatus::PartiallyRefunded,
        PaymentStatus::Refunded,
        &[Seller, Operator],
    ),
];

/// The allowed shipping moves and who may make them.
pub const SHIPPING_MOVES: &[(ShippingStatus, ShippingStatus, &[Mover])] = &[
    (
        ShippingStatus::NotShipped,
        ShippingStatus::Preparing,
        &[Seller, Operator],
    ),
    (
        ShippingStatus::Preparing,
        ShippingStatus::Shipped,
        &[Seller, Operator],
    ),
    (
        ShippingStatus::Shipped,
        ShippingStatus::InTransit,
        &[Seller, Operator, System],
    ),
    (
        ShippingStatus::Shipped,
        ShippingStatus::Delivered,
        &[Seller, Operator, System],
    ),
    (
        ShippingStatus::InTransit,
        ShippingStatus::Delivered,
        &[Seller, Operator, System],
    ),
    (
        ShippingStatus::InTransit,
        ShippingStatus::Returned,
        &[Seller, Operator],
    ),
    (
        ShippingStatus::Delivered,
        ShippingStatus::Returned,
        &[Seller, Operator],
    ),
];

/// Whether `mover` may make some move to `to` in `table`, from any state: a
/// caller who never may is refused for their role (403) before the state is
/// looked at (409).
fn may_ever<S: PartialEq + Copy + 'static>(
    table: &'static [(S, S, &'static [Mover])],
    to: S,
    mover: Mover,
) -> bool {
    table
        .iter()
        .any(|(_, t, who)| *t == to && who.contains(&mover))
}

/// Whether `mover` may ever set the payment to `to` (role before state).
pub fn may_set_payment(to: PaymentStatus, mover: Mover) -> bool {
    may_ever(PAYMENT_MOVES, to, mover)
}

fn lookup<S: PartialEq + Copy + 'static>(
    table: &'static [(S, S, &'static [Mover])],
    from: S,
    to: S,
) -> Option<&'static [Mover]> {
    table
        .iter()
        .find(|(f, t, _)| *f == from && *t == to)
        .map(|(_, _, who)| *who)
}

/// Why a move is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The table has no such move.
    NotAllowed,
    /// The move exists but not for this mover.
    NotYours,
    /// The move is allowed but another status forbids it now.
    Blocked(&'static str),
}

/// The three statuses of an order at one moment, and whether its payment is
/// collected at delivery or pickup (cash): everything the table reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Statuses {
    /// Main status.
    pub order: OrderStatus,
    /// Payment status.
    pub payment: PaymentStatus,
    /// Shipping status.
    pub shipping: ShippingStatus,
    /// Paid at delivery or pickup: the seller dispatches before payment and
    /// records the money collected.
    pub on_delivery: bool,
}

impl Statuses {
    /// The shipment has left the seller (shipped, on its way or delivered).
    fn dispatched(self) -> bool {
        matches!(
            self.shipping,
            ShippingStatus::Shipped | ShippingStatus::InTransit | ShippingStatus::Delivered
        )
    }
}

/// Checks an order move by `mover` against the table and the other statuses.
pub fn check_order(now: Statuses, to: OrderStatus, mover: Mover) -> Result<(), Refusal> {
    if !may_ever(ORDER_MOVES, to, mover) {
        return Err(Refusal::NotYours);
    }
    let who = lookup(ORDER_MOVES, now.order, to).ok_or(Refusal::NotAllowed)?;
    if !who.contains(&mover) {
        return Err(Refusal::NotYours);
    }
    match to {
        OrderStatus::Processing
            if now.payment != PaymentStatus::Paid
                && !(now.on_delivery && now.shipping != ShippingStatus::NotShipped) =>
        {
            Err(Refusal::Blocked("the payment is not confirmed"))
        }
        OrderStatus::Completed if now.shipping != ShippingStatus::Delivered => {
            Err(Refusal::Blocked("the order is not delivered"))
        }
        OrderStatus::Completed if now.payment != PaymentStatus::Paid => Err(Refusal::Blocked(
            "the payment collected at delivery is not recorded",
        )),
        OrderStatus::Cancelled
            if !matches!(
                now.shipping,
                ShippingStatus::NotShipped | ShippingStatus::Preparing
            ) && (now.shipping != ShippingStatus::Returned
                || now.payment == PaymentStatus::Paid) =>
        {
            Err(Refusal::Blocked(
                "the order has shipped; use a return instead",
            ))
        }
        _ => Ok(()),
    }
}

/// Checks a payment move by `mover`.
pub fn check_payment(now: Statuses, to: PaymentStatus, mover: Mover) -> Result<(), Refusal> {
    if !may_ever(PAYMENT_MOVES, to, mover) {
        return Err(Refusal::NotYours);
    }
    let who = lookup(PAYMENT_MOVES, now.payment, to).ok_or(Refusal::NotAllowed)?;
    if !who.contains(&mover) {
        return Err(Refusal::NotYours);
    }
    let refund = matches!(
        to,
        PaymentStatus::Refunded | PaymentStatus::PartiallyRefunded
    );
    if now.order == OrderStatus::Cancelled && !refund {
        return Err(Refusal::Blocked("the order is cancelled"));
    }
    if to == PaymentStatus::AwaitingVerification && now.on_delivery {
        return Err(Refusal::Blocked(
            "this order is paid at delivery; nothing is reported",
        ));
    }
    // A seller or operator marks a pending payment paid only as the cash
    // collected at delivery: the order is dispatched and paid on arrival.
    if now.payment == PaymentStatus::Pending
        && to == PaymentStatus::Paid
        && mover != System
        && !(now.on_delivery && now.order == OrderStatus::Processing && now.dispatched())
    {
        return Err(Refusal::Blocked(
            "only a payment collected at delivery is recorded this way, once dispatched",
        ));
    }
    Ok(())
}

/// Checks a shipping move by `mover`.
pub fn check_shipping(now: Statuses, to: ShippingStatus, mover: Mover) -> Result<(), Refusal> {
    if !may_ever(SHIPPING_MOVES, to, mover) {
        return Err(Refusal::NotYours);
    }
    let who = lookup(SHIPPING_MOVES, now.shipping, to).ok_or(Refusal::NotAllowed)?;
    if !who.contains(&mover) {
        return Err(Refusal::NotYours);
    }
    let dispatching_on_delivery = now.on_delivery
        && now.order == OrderStatus::PendingPayment
        && to == ShippingStatus::Preparing;
    if now.order != OrderStatus::Processing
        && !dispatching_on_delivery
        && !(to == ShippingStatus::Returned && now.order == OrderStatus::Completed)
    {
        return Err(Refusal::Blocked("only a paid order in processing ships"));
    }
    Ok(())
}

crate::text_enum! {
    /// Something a caller may do to an order now (order details list them).
    pub enum Action {
        /// Report a manual payment (`POST .../payments`).
        ReportPayment = "report_payment",
        /// Confirm the reported payment (`POST .../payments/verify`).
        VerifyPayment = "verify_payment",
        /// Reject the reported payment (`POST .../payments/reject`).
        RejectPayment = "reject_payment",
        /// Record the cash collected at delivery or pickup (`POST .../payments/collect`).
        CollectPayment = "collect_payment",
        /// Cancel the order (`POST .../cancel`).
        Cancel = "cancel",
        /// Start packing (`POST .../shipping`, `preparing`).
        MarkPreparing = "mark_preparing",
        /// Hand to the carrier (`POST .../shipping`, `shipped`).
        MarkShipped = "mark_shipped",
        /// On its way (`POST .../shipping`, `in_transit`).
        MarkInTransit = "mark_in_transit",
        /// Received: completes the order (`POST .../shipping`, `delivered`).
        MarkDelivered = "mark_delivered",
        /// Came back (`POST .../shipping`, `returned`).
        MarkReturned = "mark_returned",
        /// Set any status with a reason, outside the table (`POST .../override`; admins).
        Override = "override",
    }
}

/// The actions `mover` may take on an order at `now`, by the same checks the
/// moves themselves run. `reported_by_reference` says whether the order's
/// payment method is reported by reference (not cash or card); `admin` adds
/// the override.
pub fn allowed_actions(
    now: Statuses,
    mover: Mover,
    reported_by_reference: bool,
    admin: bool,
) -> Vec<Action> {
    let mut out = vec![];
    if reported_by_reference
        && check_payment(now, PaymentStatus::AwaitingVerification, mover).is_ok()
    {
        out.push(Action::ReportPayment);
    }
    if now.payment == PaymentStatus::AwaitingVerification {
        if check_payment(now, PaymentStatus::Paid, mover).is_ok() {
            out.push(Action::VerifyPayment);
        }
        if check_payment(now, PaymentStatus::Failed, mover).is_ok() {
            out.push(Action::RejectPayment);
        }
    }
    if now.payment == PaymentStatus::Pending
        && mover != System
        && check_payment(now, PaymentStatus::Paid, mover).is_ok()
    {
        out.push(Action::CollectPayment);
    }
    if check_order(now, OrderStatus::Cancelled, mover).is_ok() {
        out.push(Action::Cancel);
    }
    for (to, action) in [
        (ShippingStatus::Preparing, Action::MarkPreparing),
        (ShippingStatus::Shipped, Action::MarkShipped),
        (ShippingStatus::InTransit, Action::MarkInTransit),
        (ShippingStatus::Delivered, Action::MarkDelivered),
        (ShippingStatus::Returned, Action::MarkReturned),
    ] {
        if check_shipping(now, to, mover).is_ok() {
            out.push(action);
        }
    }
    // A cancelled order is never reopened, so there is nothing to override.
    if admin && now.order != OrderStatus::Cancelled {
        out.push(Action::Override);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The expected order moves, written out independently of `ORDER_MOVES`:
    /// rows are `from`, columns are `to` in declaration order; `-` means no move.
    const ORDER_EXPECTED: [[&str; 4]; 4] = [
        //  pending   processing  completed  cancelled
        ["-", "S O Y", "-", "B S O Y"], // pending_payment
        ["-", "-", "S O Y", "S O"],     // processing
        ["-", "-", "-", "-"],           // completed
        ["-", "-", "-", "-"],           // cancelled
    ];

    const PAYMENT_EXPECTED: [[&str; 6]; 6] = [
        //  pending  awaiting  paid   failed  refunded  partial
        ["-", "B", "S O Y", "Y", "-", "-"], // pending
        ["-", "-", "S O", "S O", "-", "-"], // awaiting_verification
        ["-", "-", "-", "-", "S O", "S O"], // paid
        ["-", "B", "-", "-", "-", "-"],     // failed
        ["-", "-", "-", "-", "-", "-"],     // refunded
        ["-", "-", "-", "-", "S O", "-"],   // partially_refunded
    ];

    const SHIPPING_EXPECTED: [[&str; 6]; 6] = [
        //  not  preparing  shipped  in_transit  delivered  returned
        ["-", "S O", "-", "-", "-", "-"],       // not_shipped
        ["-", "-", "S O", "-", "-", "-"],       // preparing
        ["-", "-", "-", "S O Y", "S O Y", "-"], // shipped
        ["-", "-", "-", "-", "S O Y", "S O"],   // in_transit
        ["-", "-", "-", "-", "-", "S O"],       // delivered
        ["-", "-", "-", "-", "-", "-"],         // returned
    ];

    fn movers(code: &str) -> Vec<Mover> {
        code.split_whitespace()
            .filter(|c| *c != "-")
            .map(|c| match c {
                "B" => Buyer,
                "S" => Seller,
                "O" => Operator,
                "Y" => System,
                other => panic!("bad code {other}"),
            })
            .collect()
    }

    fn check<S: PartialEq + Copy + std::fmt::Debug + 'static, const N: usize>(
        all: &[S],
        table: &'static [(S, S, &'static [Mover])],
        expected: [[&str; N]; N],
    ) {
        assert_eq!(all.len(), N);
        for (i, from) in all.iter().enumerate() {
            for (j, to) in all.iter().enumerate() {
                let want = movers(expected[i][j]);
                let got = lookup(table, *from, *to)
                    .map(<[Mover]>::to_vec)
                    .unwrap_or_default();
                let mut want_sorted = want.clone();
                let mut got_sorted = got.clone();
                want_sorted.sort_by_key(|m| *m as u8);
                got_sorted.sort_by_key(|m| *m as u8);
                assert_eq!(got_sorted, want_sorted, "{from:?} -> {to:?}");
            }
        }
    }

    #[test]
    fn every_pair_of_order_statuses_matches_the_expected_table() {
        check(OrderStatus::ALL, ORDER_MOVES, ORDER_EXPECTED);
    }

    #[test]
    fn every_pair_of_payment_statuses_matches_the_expected_table() {
        check(PaymentStatus::ALL, PAYMENT_MOVES, PAYMENT_EXPECTED);
    }

    #[test]
    fn every_pair_of_shipping_statuses_matches_the_expected_table() {
        check(ShippingStatus::ALL, SHIPPING_MOVES, SHIPPING_EXPECTED);
    }

    fn at(order: OrderStatus, payment: PaymentStatus, shipping: ShippingStatus) -> Statuses {
        Statuses {
            order,
            payment,
            shipping,
            on_delivery: false,
        }
    }

    fn cash(order: OrderStatus, payment: PaymentStatus, shipping: ShippingStatus) -> Statuses {
        Statuses {
            on_delivery: true,
            ..at(order, payment, shipping)
        }
    }

    #[test]
    fn cross_guards_hold() {
        use OrderStatus as O;
        use PaymentStatus as P;
        use ShippingStatus as S;
        // Processing needs a confirmed payment.
        assert_eq!(
            check_order(
                at(O::PendingPayment, P::AwaitingVerification, S::NotShipped),
                O::Processing,
                Seller
            ),
            Err(Refusal::Blocked("the payment is not confirmed"))
        );
        assert_eq!(
            check_order(
                at(O::PendingPayment, P::Paid, S::NotShipped),
                O::Processing,
                System
            ),
            Ok(())
        );
        // Completion needs delivery.
        assert!(check_order(at(O::Processing, P::Paid, S::Shipped), O::Completed, System).is_err());
        assert_eq!(
            check_order(
                at(O::Processing, P::Paid, S::Delivered),
                O::Completed,
                System
            ),
            Ok(())
        );
        // No cancellation once shipped; buyers cancel only before payment.
        assert!(
            check_order(
                at(O::Processing, P::Paid, S::Shipped),
                O::Cancelled,
                Operator
            )
            .is_err()
        );
        assert_eq!(
            check_order(
                at(O::Processing, P::Paid, S::Preparing),
                O::Cancelled,
                Buyer
            ),
            Err(Refusal::NotYours)
        );
        assert_eq!(
            check_order(
                at(O::PendingPayment, P::Pending, S::NotShipped),
                O::Cancelled,
                Buyer
            ),
            Ok(())
        );
        // Shipping moves only for paid orders in processing; returns after completion.
        assert!(
            check_shipping(
                at(O::PendingPayment, P::Pending, S::NotShipped),
                S::Preparing,
                Seller
            )
            .is_err()
        );
        assert_eq!(
            check_shipping(
                at(O::Processing, P::Paid, S::NotShipped),
                S::Preparing,
                Seller
            ),
            Ok(())
        );
        assert_eq!(
            check_shipping(at(O::Completed, P::Paid, S::Delivered), S::Returned, Seller),
            Ok(())
        );
        // A cancelled order takes refunds only.
        assert!(
            check_payment(
                at(O::Cancelled, P::Failed, S::NotShipped),
                P::AwaitingVerification,
                Buyer
            )
            .is_err()
        );
        assert_eq!(
            check_payment(
                at(O::Cancelled, P::Paid, S::NotShipped),
                P::Refunded,
                Operator
            ),
            Ok(())
        );
        // A move that is not in the table.
        assert_eq!(
            check_payment(
                at(O::PendingPayment, P::Pending, S::NotShipped),
                P::Refunded,
                Operator
            ),
            Err(Refusal::NotAllowed)
        );
    }

    #[test]
    fn allowed_actions_follow_the_table_for_each_mover() {
        use OrderStatus as O;
        use PaymentStatus as P;
        use ShippingStatus as S;
        let placed = at(O::PendingPayment, P::Pending, S::NotShipped);
        assert_eq!(
            allowed_actions(placed, Buyer, true, false),
            [Action::ReportPayment, Action::Cancel]
        );
        // Cash is not reported by reference.
        assert_eq!(
            allowed_actions(placed, Buyer, false, false),
            [Action::Cancel]
        );
        assert_eq!(
            allowed_actions(placed, Seller, true, false),
            [Action::Cancel]
        );
        let reported = at(O::PendingPayment, P::AwaitingVerification, S::NotShipped);
        assert_eq!(
            allowed_actions(reported, Seller, true, false),
            [Action::VerifyPayment, Action::RejectPayment, Action::Cancel]
        );
        assert_eq!(
            allowed_actions(reported, Operator, true, true),
            [
                Action::VerifyPayment,
                Action::RejectPayment,
                Action::Cancel,
                Action::Override
            ]
        );
        let paid = at(O::Processing, P::Paid, S::NotShipped);
        assert!(allowed_actions(paid, Buyer, true, false).is_empty());
        assert_eq!(
            allowed_actions(paid, Seller, true, false),
            [Action::Cancel, Action::MarkPreparing]
        );
        let shipped = at(O::Processing, P::Paid, S::Shipped);
        assert_eq!(
            allowed_actions(shipped, Seller, true, false),
            [Action::MarkInTransit, Action::MarkDelivered]
        );
        let done = at(O::Completed, P::Paid, S::Delivered);
        assert_eq!(
            allowed_actions(done, Seller, true, false),
            [Action::MarkReturned]
        );
        let cancelled = at(O::Cancelled, P::Pending, S::NotShipped);
        for mover in [Buyer, Seller, Operator] {
            assert!(allowed_actions(cancelled, mover, true, false).is_empty());
        }
        // Admins are not offered an override that would be refused.
        assert!(allowed_actions(cancelled, Operator, true, true).is_empty());
    }

    #[test]
    fn lines_follow_the_order() {
        use OrderStatus as O;
        use PaymentStatus as P;
        use ShippingStatus as S;
        let cases = [
            (
                at(O::PendingPayment, P::Pending, S::NotShipped),
                ItemStatus::Reserved,
            ),
            (
                at(O::PendingPayment, P::Failed, S::NotShipped),
                ItemStatus::Reserved,
            ),
            (at(O::Processing, P::Paid, S::Preparing), ItemStatus::Sold),
            (
                at(O::Processing, P::Paid, S::InTransit),
                ItemStatus::Shipped,
            ),
            (
                at(O::Completed, P::Paid, S::Delivered),
                ItemStatus::Delivered,
            ),
            (
                at(O::Completed, P::Refunded, S::Returned),
                ItemStatus::Returned,
            ),
            (
                at(O::Cancelled, P::Paid, S::Preparing),
                ItemStatus::Cancelled,
            ),
        ];
        for (now, want) in cases {
            assert_eq!(item_status(now), want, "{now:?}");
        }
    }

    #[test]
    fn cash_on_delivery_ships_before_payment_and_completes_when_collected() {
        use OrderStatus as O;
        use PaymentStatus as P;
        use ShippingStatus as S;
        let placed = cash(O::PendingPayment, P::Pending, S::NotShipped);
        // Nothing to report; the seller dispatches while the payment is pending.
        assert_eq!(
            allowed_actions(placed, Buyer, false, false),
            [Action::Cancel]
        );
        assert_eq!(
            allowed_actions(placed, Seller, false, false),
            [Action::Cancel, Action::MarkPreparing]
        );
        assert!(check_payment(placed, P::AwaitingVerification, Buyer).is_err());
        // A prepaid order does not ship unpaid.
        assert!(
            check_shipping(
                at(O::PendingPayment, P::Pending, S::NotShipped),
                S::Preparing,
                Seller
            )
            .is_err()
        );
        // Preparing moves the order to processing (its stock is sold then).
        let preparing = cash(O::PendingPayment, P::Pending, S::Preparing);
        assert_eq!(check_order(preparing, O::Processing, System), Ok(()));
        assert_eq!(
            item_status(cash(O::Processing, P::Pending, S::Preparing)),
            ItemStatus::Sold
        );
        // Cash is collected only once dispatched.
        let packing = cash(O::Processing, P::Pending, S::Preparing);
        assert!(check_payment(packing, P::Paid, Seller).is_err());
        let shipped = cash(O::Processing, P::Pending, S::Shipped);
        assert_eq!(
            allowed_actions(shipped, Seller, false, false),
            [
                Action::CollectPayment,
                Action::MarkInTransit,
                Action::MarkDelivered
            ]
        );
        assert!(allowed_actions(shipped, Buyer, false, false).is_empty());
        // Delivered but not collected: not complete yet.
        let delivered = cash(O::Processing, P::Pending, S::Delivered);
        assert!(check_order(delivered, O::Completed, System).is_err());
        assert_eq!(
            allowed_actions(delivered, Seller, false, false),
            [Action::CollectPayment, Action::MarkReturned]
        );
        let collected = cash(O::Processing, P::Paid, S::Delivered);
        assert_eq!(check_order(collected, O::Completed, System), Ok(()));
        // Refused at the door: it comes back and may then be cancelled.
        let returned = cash(O::Processing, P::Pending, S::Returned);
        assert_eq!(check_order(returned, O::Cancelled, Seller), Ok(()));
        // A prepaid order's pending payment is never marked paid by hand.
        assert!(check_payment(at(O::Processing, P::Pending, S::Shipped), P::Paid, Seller).is_err());
    }

    #[test]
    fn a_role_that_never_makes_a_move_is_refused_before_the_state_is_read() {
        use OrderStatus as O;
        use PaymentStatus as P;
        use ShippingStatus as S;
        let placed = at(O::PendingPayment, P::Pending, S::NotShipped);
        assert_eq!(
            check_payment(placed, P::Paid, Buyer),
            Err(Refusal::NotYours)
        );
        assert_eq!(
            check_payment(placed, P::Failed, Buyer),
            Err(Refusal::NotYours)
        );
        assert_eq!(
            check_shipping(placed, S::Preparing, Buyer),
            Err(Refusal::NotYours)
        );
    }
}
