-- Group carts: an owner invites participants by link; each participant's
-- lines are their own (one line per product per participant).

ALTER TABLE carts ADD COLUMN kind TEXT NOT NULL DEFAULT 'personal' CHECK (kind IN ('personal', 'group'));
ALTER TABLE carts ADD COLUMN invite_token_hash TEXT UNIQUE;

-- One active personal cart per user; group carts are extra.
DROP INDEX carts_one_active_per_user_idx;
CREATE UNIQUE INDEX carts_one_active_per_user_idx ON carts (user_id) WHERE status = 'active' AND kind = 'personal';

ALTER TABLE cart_items DROP CONSTRAINT cart_items_one_line_per_product;
ALTER TABLE cart_items ADD COLUMN line_owner UUID NOT NULL DEFAULT '00000000-0000-0000-0000-000000000000';
ALTER TABLE cart_items ADD CONSTRAINT cart_items_one_line_per_product UNIQUE (cart_id, product_id, line_owner);

CREATE TABLE cart_participants (
    cart_id   UUID NOT NULL REFERENCES carts (id),
    user_id   UUID NOT NULL,
    role      TEXT NOT NULL CHECK (role IN ('owner', 'member')),
    joined_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    left_at   TIMESTAMPTZ,
    PRIMARY KEY (cart_id, user_id)
);

CREATE INDEX cart_participants_user_idx ON cart_participants (user_id) WHERE left_at IS NULL;
