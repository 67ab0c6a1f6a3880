// @generated automatically by Diesel CLI.

diesel::table! {
    exchange_rates (id) {
        id -> Uuid,
        base_currency -> Text,
        quote_currency -> Text,
        rate -> Numeric,
        effective_at -> Timestamptz,
        source -> Text,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    product_price_history (id) {
        id -> Uuid,
        product_id -> Uuid,
        old_price_usd -> Nullable<Numeric>,
        new_price_usd -> Numeric,
        changed_by -> Nullable<Uuid>,
        changed_at -> Timestamptz,
    }
}

diesel::table! {
    products (id) {
        id -> Uuid,
        seller_id -> Uuid,
        sku -> Text,
        name -> Text,
        description -> Text,
        category -> Text,
        image_url -> Nullable<Text>,
        price_usd -> Numeric,
        weight_kg -> Nullable<Numeric>,
        max_per_order -> Int4,
        active -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    sellers (id) {
        id -> Uuid,
        display_name -> Text,
        active -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(product_price_history -> products (product_id));
diesel::joinable!(products -> sellers (seller_id));

diesel::allow_tables_to_appear_in_same_query!(
    exchange_rates,
    product_price_history,
    products,
    sellers,
);
