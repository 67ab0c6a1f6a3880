// @generated automatically by Diesel CLI.

diesel::table! {
    checkouts (id) {
        id -> Uuid,
        user_id -> Uuid,
        cart_id -> Uuid,
        status -> Text,
        lines -> Jsonb,
        address_id -> Nullable<Uuid>,
        deliveries -> Jsonb,
        payment_method -> Nullable<Text>,
        gift_wrap -> Bool,
        gift_message -> Text,
        special_instructions -> Text,
        delivery_notes -> Text,
        package_preferences -> Text,
        reservation_id -> Uuid,
        expires_at -> Timestamptz,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    delivery_options (id) {
        id -> Uuid,
        seller_id -> Uuid,
        kind -> Text,
        name -> Text,
        carrier -> Text,
        base_cost_usd -> Numeric,
        per_kg_usd -> Numeric,
        free_above_usd -> Nullable<Numeric>,
        states -> Array<Text>,
        municipalities -> Array<Text>,
        min_days -> Int4,
        max_days -> Int4,
        active -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    payment_methods (id) {
        id -> Uuid,
        code -> Text,
        name -> Text,
        currency -> Text,
        instructions -> Text,
        surcharge_percent -> Numeric,
        payment_window_minutes -> Int4,
        active -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

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
        announced_at -> Nullable<Timestamptz>,
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

diesel::table! {
    stock_levels (product_id) {
        product_id -> Uuid,
        on_hand -> Int4,
        reserved -> Int4,
        safety_stock -> Int4,
        low_stock_threshold -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    reservations (id) {
        id -> Uuid,
        owner_type -> Text,
        owner_id -> Uuid,
        status -> Text,
        expires_at -> Timestamptz,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        ended_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    reservation_lines (reservation_id, product_id) {
        reservation_id -> Uuid,
        product_id -> Uuid,
        quantity -> Int4,
    }
}

diesel::table! {
    stock_movements (id) {
        id -> Uuid,
        product_id -> Uuid,
        on_hand_delta -> Int4,
        reserved_delta -> Int4,
        on_hand_after -> Int4,
        reserved_after -> Int4,
        reason -> Text,
        reservation_id -> Nullable<Uuid>,
        owner_type -> Nullable<Text>,
        owner_id -> Nullable<Uuid>,
        reference -> Nullable<Text>,
        actor_id -> Nullable<Uuid>,
        actor_role -> Nullable<Text>,
        note -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    stock_alerts (id) {
        id -> Uuid,
        product_id -> Uuid,
        seller_id -> Uuid,
        available -> Int4,
        threshold -> Int4,
        status -> Text,
        raised_at -> Timestamptz,
        acknowledged_at -> Nullable<Timestamptz>,
        acknowledged_by -> Nullable<Uuid>,
        cleared_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    orders (id) {
        id -> Uuid,
        number -> Text,
        checkout_id -> Uuid,
        user_id -> Uuid,
        seller_id -> Uuid,
        status -> Text,
        payment_status -> Text,
        shipping_status -> Text,
        payment_method -> Text,
        subtotal_usd -> Numeric,
        subtotal_ves -> Numeric,
        delivery_usd -> Numeric,
        delivery_ves -> Numeric,
        fees_usd -> Numeric,
        fees_ves -> Numeric,
        surcharge_usd -> Numeric,
        surcharge_ves -> Numeric,
        total_usd -> Numeric,
        total_ves -> Numeric,
        rate_id -> Uuid,
        rate -> Numeric,
        address -> Jsonb,
        delivery -> Jsonb,
        customization -> Jsonb,
        reservation_id -> Uuid,
        payment_due_at -> Timestamptz,
        carrier -> Nullable<Text>,
        tracking_number -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    order_items (id) {
        id -> Uuid,
        order_id -> Uuid,
        product_id -> Uuid,
        sku -> Text,
        name -> Text,
        image_url -> Nullable<Text>,
        quantity -> Int4,
        unit_usd -> Numeric,
        unit_ves -> Numeric,
        line_usd -> Numeric,
        line_ves -> Numeric,
        status -> Text,
    }
}

diesel::table! {
    order_history (id) {
        id -> Uuid,
        order_id -> Uuid,
        field -> Text,
        from_value -> Nullable<Text>,
        to_value -> Text,
        actor_id -> Nullable<Uuid>,
        actor_role -> Text,
        source -> Text,
        reason -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    idempotency_keys (user_id, key) {
        user_id -> Uuid,
        key -> Text,
        request_hash -> Text,
        resource_id -> Uuid,
        created_at -> Timestamptz,
        operation -> Text,
    }
}

diesel::table! {
    payment_submissions (id) {
        id -> Uuid,
        order_id -> Uuid,
        method -> Text,
        details -> Jsonb,
        bank -> Text,
        reference -> Text,
        duplicate_of -> Nullable<Uuid>,
        status -> Text,
        reason -> Text,
        created_at -> Timestamptz,
        reference_key -> Text,
    }
}

diesel::table! {
    outbox (id) {
        id -> Uuid,
        topic -> Text,
        aggregate_id -> Uuid,
        payload -> Jsonb,
        created_at -> Timestamptz,
        available_at -> Timestamptz,
        attempts -> Int4,
        delivered_at -> Nullable<Timestamptz>,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> Uuid,
        seller_id -> Nullable<Uuid>,
        url -> Text,
        description -> Text,
        event_types -> Array<Text>,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_secret_until -> Nullable<Timestamptz>,
        active -> Bool,
        disabled_reason -> Text,
        failing_since -> Nullable<Timestamptz>,
        created_by -> Uuid,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    deliveries (id) {
        id -> Uuid,
        event_id -> Uuid,
        topic -> Text,
        channel -> Text,
        recipient -> Text,
        endpoint_id -> Nullable<Uuid>,
        payload -> Jsonb,
        status -> Text,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        last_error -> Text,
        response_status -> Nullable<Int4>,
        response_excerpt -> Text,
        sent_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(deliveries -> webhook_endpoints (endpoint_id));
diesel::joinable!(webhook_endpoints -> sellers (seller_id));
diesel::joinable!(stock_levels -> products (product_id));
diesel::joinable!(reservation_lines -> reservations (reservation_id));
diesel::joinable!(reservation_lines -> products (product_id));
diesel::joinable!(stock_movements -> products (product_id));
diesel::joinable!(stock_alerts -> products (product_id));

diesel::table! {
    carts (id) {
        id -> Uuid,
        user_id -> Nullable<Uuid>,
        guest_token_hash -> Nullable<Text>,
        status -> Text,
        version -> Int4,
        merged_into -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        last_activity_at -> Timestamptz,
        kind -> Text,
        invite_token_hash -> Nullable<Text>,
    }
}

diesel::table! {
    cart_participants (cart_id, user_id) {
        cart_id -> Uuid,
        user_id -> Uuid,
        role -> Text,
        joined_at -> Timestamptz,
        left_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    cart_stream_tickets (ticket_hash) {
        ticket_hash -> Text,
        cart_id -> Uuid,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    cart_items (id) {
        id -> Uuid,
        cart_id -> Uuid,
        product_id -> Uuid,
        seller_id -> Uuid,
        quantity -> Int4,
        saved_for_later -> Bool,
        name -> Text,
        sku -> Text,
        image_url -> Nullable<Text>,
        category -> Text,
        seller_name -> Text,
        unit_price_usd -> Numeric,
        unit_price_ves -> Numeric,
        rate_id -> Uuid,
        rate -> Numeric,
        prev_unit_price_usd -> Nullable<Numeric>,
        prev_unit_price_ves -> Nullable<Numeric>,
        added_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        line_owner -> Uuid,
        price_changes -> Int4,
        quantity_reduced_from -> Nullable<Int4>,
    }
}

diesel::table! {
    addresses (id) {
        id -> Uuid,
        user_id -> Uuid,
        label -> Text,
        recipient -> Text,
        phone -> Text,
        national_id -> Text,
        state -> Text,
        municipality -> Text,
        city -> Text,
        line1 -> Text,
        line2 -> Text,
        reference_point -> Text,
        latitude -> Nullable<Float8>,
        longitude -> Nullable<Float8>,
        is_default -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    cart_item_price_changes (id) {
        id -> Uuid,
        item_id -> Uuid,
        old_price_usd -> Numeric,
        new_price_usd -> Numeric,
        old_price_ves -> Numeric,
        new_price_ves -> Numeric,
        old_rate -> Numeric,
        new_rate -> Numeric,
        changed_at -> Timestamptz,
    }
}

diesel::table! {
    fee_rules (id) {
        id -> Uuid,
        code -> Text,
        name -> Text,
        kind -> Text,
        amount -> Numeric,
        min_subtotal_usd -> Nullable<Numeric>,
        active -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    wishlists (id) {
        id -> Uuid,
        user_id -> Uuid,
        name -> Text,
        is_default -> Bool,
        share_token_hash -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    wishlist_items (wishlist_id, product_id) {
        wishlist_id -> Uuid,
        product_id -> Uuid,
        added_at -> Timestamptz,
    }
}

diesel::table! {
    cart_shares (id) {
        id -> Uuid,
        cart_id -> Uuid,
        token_hash -> Text,
        snapshot -> Jsonb,
        created_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(wishlist_items -> wishlists (wishlist_id));
diesel::joinable!(wishlist_items -> products (product_id));
diesel::joinable!(cart_shares -> carts (cart_id));
diesel::joinable!(cart_participants -> carts (cart_id));
diesel::joinable!(cart_items -> carts (cart_id));
diesel::joinable!(order_items -> orders (order_id));
diesel::joinable!(order_history -> orders (order_id));
diesel::joinable!(delivery_options -> sellers (seller_id));
diesel::joinable!(cart_items -> products (product_id));
diesel::joinable!(cart_item_price_changes -> cart_items (item_id));

diesel::allow_tables_to_appear_in_same_query!(
    cart_stream_tickets,
    deliveries,
    webhook_endpoints,
    addresses,
    cart_item_price_changes,
    cart_participants,
    cart_shares,
    cart_items,
    carts,
    checkouts,
    delivery_options,
    exchange_rates,
    fee_rules,
    idempotency_keys,
    order_history,
    order_items,
    orders,
    outbox,
    payment_methods,
    payment_submissions,
    product_price_history,
    products,
    reservation_lines,
    reservations,
    sellers,
    stock_alerts,
    stock_levels,
    stock_movements,
    wishlist_items,
    wishlists,
);
