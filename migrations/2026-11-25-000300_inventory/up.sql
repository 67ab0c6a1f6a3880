-- Inventory: one stock record per product, a ledger of every movement,
-- reservations that always end, low-stock alerts, and the outbox that
-- carries events to the notification jobs.

CREATE TABLE stock_levels (
    product_id          UUID PRIMARY KEY REFERENCES products (id),
    on_hand             INTEGER NOT NULL DEFAULT 0,
    reserved            INTEGER NOT NULL DEFAULT 0,
    safety_stock        INTEGER NOT NULL DEFAULT 0,
    low_stock_threshold INTEGER NOT NULL DEFAULT 0,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT stock_on_hand_nonnegative CHECK (on_hand >= 0),
    CONSTRAINT stock_reserved_nonnegative CHECK (reserved >= 0),
    CONSTRAINT stock_reserved_within_on_hand CHECK (reserved <= on_hand),
    CONSTRAINT stock_safety_nonnegative CHECK (safety_stock >= 0),
    CONSTRAINT stock_threshold_nonnegative CHECK (low_stock_threshold >= 0)
);

CREATE TABLE reservations (
    id         UUID PRIMARY KEY,
    owner_type TEXT NOT NULL CHECK (owner_type IN ('checkout', 'cart', 'order')),
    owner_id   UUID NOT NULL,
    status     TEXT NOT NULL DEFAULT 'active'
               CHECK (status IN ('active', 'committed', 'released', 'expired')),
    expires_at TIMESTAMPTZ NOT NULL,
    created_by UUID,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    ended_at   TIMESTAMPTZ,
    CHECK ((status = 'active') = (ended_at IS NULL))
);

-- The expiry job's queue, and lookups by owner.
CREATE INDEX reservations_active_expiry_idx ON reservations (expires_at) WHERE status = 'active';
CREATE INDEX reservations_owner_idx ON reservations (owner_type, owner_id);

CREATE TABLE reservation_lines (
    reservation_id UUID NOT NULL REFERENCES reservations (id),
    product_id     UUID NOT NULL REFERENCES products (id),
    quantity       INTEGER NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (reservation_id, product_id)
);

CREATE INDEX reservation_lines_product_idx ON reservation_lines (product_id);

CREATE TABLE stock_movements (
    id             UUID PRIMARY KEY,
    product_id     UUID NOT NULL REFERENCES products (id),
    on_hand_delta  INTEGER NOT NULL,
    reserved_delta INTEGER NOT NULL,
    on_hand_after  INTEGER NOT NULL,
    reserved_after INTEGER NOT NULL,
    reason         TEXT NOT NULL CHECK (reason IN
                   ('restock', 'adjustment', 'reservation', 'release', 'expiry', 'sale', 'return', 'correction')),
    reservation_id UUID REFERENCES reservations (id),
    owner_type     TEXT,
    owner_id       UUID,
    reference      TEXT,
    actor_id       UUID,
    actor_role     TEXT,
    note           TEXT NOT NULL DEFAULT '',
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (on_hand_delta <> 0 OR reserved_delta <> 0)
);

CREATE INDEX stock_movements_product_idx ON stock_movements (product_id, id);
CREATE INDEX stock_movements_product_reason_idx ON stock_movements (product_id, reason, id);

CREATE TABLE stock_alerts (
    id              UUID PRIMARY KEY,
    product_id      UUID NOT NULL REFERENCES products (id),
    seller_id       UUID NOT NULL REFERENCES sellers (id),
    available       INTEGER NOT NULL,
    threshold       INTEGER NOT NULL,
    status          TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acknowledged', 'cleared')),
    raised_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    acknowledged_at TIMESTAMPTZ,
    acknowledged_by UUID,
    cleared_at      TIMESTAMPTZ
);

-- One live alert per product: a crossing raises one, a restock clears it.
CREATE UNIQUE INDEX stock_alerts_one_live_idx ON stock_alerts (product_id) WHERE status <> 'cleared';
CREATE INDEX stock_alerts_seller_idx ON stock_alerts (seller_id, status, id);
CREATE INDEX stock_alerts_status_idx ON stock_alerts (status, id);

CREATE TABLE outbox (
    id           UUID PRIMARY KEY,
    topic        TEXT NOT NULL,
    aggregate_id UUID NOT NULL,
    payload      JSONB NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    available_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    attempts     INTEGER NOT NULL DEFAULT 0,
    delivered_at TIMESTAMPTZ,
    last_error   TEXT
);

CREATE INDEX outbox_pending_idx ON outbox (available_at) WHERE delivered_at IS NULL;
