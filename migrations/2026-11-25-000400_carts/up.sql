-- Carts (one active per user, or a guest cart addressed by a hashed token),
-- their lines with product snapshots and price history, and fee rules.

CREATE TABLE carts (
    id               UUID PRIMARY KEY,
    user_id          UUID,
    guest_token_hash TEXT UNIQUE,
    status           TEXT NOT NULL DEFAULT 'active'
                     CHECK (status IN ('active', 'merged', 'converted', 'abandoned', 'expired')),
    version          INTEGER NOT NULL DEFAULT 1 CHECK (version > 0),
    merged_into      UUID REFERENCES carts (id),
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_activity_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((user_id IS NULL) <> (guest_token_hash IS NULL))
);

-- One active cart per user; lookups by user, status and date range.
CREATE UNIQUE INDEX carts_one_active_per_user_idx ON carts (user_id) WHERE status = 'active';
CREATE INDEX carts_user_idx ON carts (user_id, created_at);
CREATE INDEX carts_status_activity_idx ON carts (status, last_activity_at);
CREATE INDEX carts_created_idx ON carts (created_at);

CREATE TABLE cart_items (
    id                  UUID PRIMARY KEY,
    cart_id             UUID NOT NULL REFERENCES carts (id),
    product_id          UUID NOT NULL REFERENCES products (id),
    seller_id           UUID NOT NULL REFERENCES sellers (id),
    quantity            INTEGER NOT NULL CHECK (quantity BETWEEN 1 AND 10000),
    saved_for_later     BOOLEAN NOT NULL DEFAULT FALSE,
    -- Product snapshot taken when added.
    name                TEXT NOT NULL,
    sku                 TEXT NOT NULL,
    image_url           TEXT,
    category            TEXT NOT NULL,
    seller_name         TEXT NOT NULL,
    -- Unit price in both currencies and the rate used, as last shown.
    unit_price_usd      NUMERIC(12, 2) NOT NULL CHECK (unit_price_usd > 0),
    unit_price_ves      NUMERIC(16, 2) NOT NULL CHECK (unit_price_ves >= 0),
    rate_id             UUID NOT NULL REFERENCES exchange_rates (id),
    rate                NUMERIC(20, 8) NOT NULL,
    -- The price before the last change, until the shopper acts on the cart.
    prev_unit_price_usd NUMERIC(12, 2),
    prev_unit_price_ves NUMERIC(16, 2),
    added_by            UUID,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT cart_items_one_line_per_product UNIQUE (cart_id, product_id)
);

CREATE INDEX cart_items_product_idx ON cart_items (product_id);

CREATE TABLE cart_item_price_changes (
    id             UUID PRIMARY KEY,
    item_id        UUID NOT NULL REFERENCES cart_items (id) ON DELETE CASCADE,
    old_price_usd  NUMERIC(12, 2) NOT NULL,
    new_price_usd  NUMERIC(12, 2) NOT NULL,
    old_price_ves  NUMERIC(16, 2) NOT NULL,
    new_price_ves  NUMERIC(16, 2) NOT NULL,
    old_rate       NUMERIC(20, 8) NOT NULL,
    new_rate       NUMERIC(20, 8) NOT NULL,
    changed_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX cart_item_price_changes_item_idx ON cart_item_price_changes (item_id, id);

CREATE TABLE fee_rules (
    id                UUID PRIMARY KEY,
    code              TEXT NOT NULL UNIQUE CHECK (code ~ '^[a-z0-9]+(_[a-z0-9]+)*$'),
    name              TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    kind              TEXT NOT NULL CHECK (kind IN ('percent', 'fixed')),
    amount            NUMERIC(12, 4) NOT NULL CHECK (amount >= 0),
    min_subtotal_usd  NUMERIC(12, 2),
    active            BOOLEAN NOT NULL DEFAULT TRUE,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now()
);
