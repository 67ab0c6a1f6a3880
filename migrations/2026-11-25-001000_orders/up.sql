-- Orders: one per seller per checkout, with frozen prices and rate, their
-- lines, the history of every status change, and idempotency keys.
CREATE SEQUENCE order_number_seq START 1001;

CREATE TABLE orders (
    id                   UUID PRIMARY KEY,
    number               TEXT NOT NULL UNIQUE,
    checkout_id          UUID NOT NULL REFERENCES checkouts (id),
    user_id              UUID NOT NULL,
    seller_id            UUID NOT NULL REFERENCES sellers (id),
    status               TEXT NOT NULL CHECK (status IN ('pending_payment', 'processing', 'completed', 'cancelled')),
    payment_status       TEXT NOT NULL CHECK (payment_status IN ('pending', 'awaiting_verification', 'paid', 'failed', 'refunded', 'partially_refunded')),
    shipping_status      TEXT NOT NULL CHECK (shipping_status IN ('not_shipped', 'preparing', 'shipped', 'in_transit', 'delivered', 'returned')),
    payment_method       TEXT NOT NULL,
    subtotal_usd         NUMERIC(14, 2) NOT NULL,
    subtotal_ves         NUMERIC(18, 2) NOT NULL,
    delivery_usd         NUMERIC(14, 2) NOT NULL,
    delivery_ves         NUMERIC(18, 2) NOT NULL,
    fees_usd             NUMERIC(14, 2) NOT NULL,
    fees_ves             NUMERIC(18, 2) NOT NULL,
    surcharge_usd        NUMERIC(14, 2) NOT NULL,
    surcharge_ves        NUMERIC(18, 2) NOT NULL,
    total_usd            NUMERIC(14, 2) NOT NULL,
    total_ves            NUMERIC(18, 2) NOT NULL,
    rate_id              UUID NOT NULL REFERENCES exchange_rates (id),
    rate                 NUMERIC(20, 8) NOT NULL,
    address              JSONB NOT NULL,
    delivery             JSONB NOT NULL,
    -- Gift wrap and message, special instructions, delivery notes, packaging preferences.
    customization        JSONB NOT NULL,
    reservation_id       UUID NOT NULL REFERENCES reservations (id),
    payment_due_at       TIMESTAMPTZ NOT NULL,
    carrier              TEXT,
    tracking_number      TEXT,
    created_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT orders_one_per_seller_per_checkout UNIQUE (checkout_id, seller_id),
    CHECK (total_usd = subtotal_usd + delivery_usd + fees_usd + surcharge_usd),
    CHECK (total_ves = subtotal_ves + delivery_ves + fees_ves + surcharge_ves)
);

CREATE INDEX orders_user_idx ON orders (user_id, id);
CREATE INDEX orders_seller_idx ON orders (seller_id, id);
CREATE INDEX orders_status_idx ON orders (status, id);
CREATE INDEX orders_payment_status_idx ON orders (payment_status, id);
CREATE INDEX orders_unpaid_due_idx ON orders (payment_due_at) WHERE status = 'pending_payment';

CREATE TABLE order_items (
    id             UUID PRIMARY KEY,
    order_id       UUID NOT NULL REFERENCES orders (id),
    product_id     UUID NOT NULL REFERENCES products (id),
    sku            TEXT NOT NULL,
    name           TEXT NOT NULL,
    image_url      TEXT,
    quantity       INTEGER NOT NULL CHECK (quantity > 0),
    unit_usd       NUMERIC(12, 2) NOT NULL,
    unit_ves       NUMERIC(16, 2) NOT NULL,
    line_usd       NUMERIC(14, 2) NOT NULL,
    line_ves       NUMERIC(18, 2) NOT NULL,
    CHECK (line_usd = unit_usd * quantity AND line_ves = unit_ves * quantity)
);

CREATE INDEX order_items_order_idx ON order_items (order_id);
CREATE INDEX order_items_name_trgm_idx ON order_items USING gin (name gin_trgm_ops);

CREATE TABLE order_history (
    id         UUID PRIMARY KEY,
    order_id   UUID NOT NULL REFERENCES orders (id),
    field      TEXT NOT NULL CHECK (field IN ('status', 'payment_status', 'shipping_status')),
    from_value TEXT,
    to_value   TEXT NOT NULL,
    actor_id   UUID,
    actor_role TEXT NOT NULL,
    source     TEXT NOT NULL CHECK (source IN ('buyer', 'seller', 'operator', 'system', 'override')),
    reason     TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX order_history_order_idx ON order_history (order_id, id);

CREATE TABLE idempotency_keys (
    user_id      UUID NOT NULL,
    key          TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
    request_hash TEXT NOT NULL,
    checkout_id  UUID NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);
