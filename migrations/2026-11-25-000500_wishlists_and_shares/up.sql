-- Wishlists (a default list per user plus named lists, shareable by a
-- revocable read-only link) and read-only share links for carts.

CREATE TABLE wishlists (
    id               UUID PRIMARY KEY,
    user_id          UUID NOT NULL,
    name             TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    is_default       BOOLEAN NOT NULL DEFAULT FALSE,
    share_token_hash TEXT UNIQUE,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX wishlists_one_default_idx ON wishlists (user_id) WHERE is_default;
CREATE UNIQUE INDEX wishlists_user_name_idx ON wishlists (user_id, lower(name));

CREATE TABLE wishlist_items (
    wishlist_id UUID NOT NULL REFERENCES wishlists (id) ON DELETE CASCADE,
    product_id  UUID NOT NULL REFERENCES products (id),
    added_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (wishlist_id, product_id)
);

CREATE TABLE cart_shares (
    id         UUID PRIMARY KEY,
    cart_id    UUID NOT NULL REFERENCES carts (id),
    token_hash TEXT NOT NULL UNIQUE,
    snapshot   JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at TIMESTAMPTZ
);

CREATE INDEX cart_shares_cart_idx ON cart_shares (cart_id);
