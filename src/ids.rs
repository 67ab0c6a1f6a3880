//! The ids that cross domains, each its own type (`crate::id_type!`), so
//! the compiler refuses a cart id where an order id is expected. They live
//! here, below every domain, so any domain can name another's id without
//! importing it.

crate::id_type! {
    /// An order (one seller's part of a checkout).
    pub struct OrderId;
}

crate::id_type! {
    /// A cart.
    pub struct CartId;
}

crate::id_type! {
    /// A checkout session.
    pub struct CheckoutId;
}

crate::id_type! {
    /// A product.
    pub struct ProductId;
}

crate::id_type! {
    /// A seller (a shop).
    pub struct SellerId;
}
