-- Checkout sessions: a cart's counted lines held by a reservation while the
-- buyer chooses address, delivery per seller, payment method and extras.
CREATE TABLE checkouts (
    id                   UUID PRIMARY KEY,
    user_id              UUID NOT NULL,
    cart_id              UUID NOT NULL REFERENCES carts (id),
    status               TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'placed', 'abandoned')),
    lines                JSONB NOT NULL,
    address_id           UUID,
    deliveries           JSONB NOT NULL DEFAULT '{}',
    payment_method       TEXT,
    gift_wrap            BOOLEAN NOT NULL DEFAULT FALSE,
    gift_message         TEXT NOT NULL DEFAULT '' CHECK (length(gift_message) <= 300),
    special_instructions TEXT NOT NULL DEFAULT '' CHECK (length(special_instructions) <= 500),
    delivery_notes       TEXT NOT NULL DEFAULT '' CHECK (length(delivery_notes) <= 500),
    package_preferences  TEXT NOT NULL DEFAULT '' CHECK (length(package_preferences) <= 300),
    reservation_id       UUID NOT NULL REFERENCES reservations (id),
    expires_at           TIMESTAMPTZ NOT NULL,
    created_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at           TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX checkouts_one_open_per_cart_idx ON checkouts (cart_id) WHERE status = 'open';
CREATE INDEX checkouts_user_idx ON checkouts (user_id, created_at);
