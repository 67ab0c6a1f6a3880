-- Sellers and their products, with the price history of every product.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE sellers (
    id           UUID PRIMARY KEY,
    display_name TEXT NOT NULL CHECK (length(display_name) BETWEEN 1 AND 120),
    active       BOOLEAN NOT NULL DEFAULT TRUE,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE products (
    id            UUID PRIMARY KEY,
    seller_id     UUID NOT NULL REFERENCES sellers (id),
    sku           TEXT NOT NULL CHECK (length(sku) BETWEEN 1 AND 64),
    name          TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description   TEXT NOT NULL DEFAULT '' CHECK (length(description) <= 5000),
    category      TEXT NOT NULL CHECK (category ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    image_url     TEXT,
    price_usd     NUMERIC(12, 2) NOT NULL CHECK (price_usd > 0),
    weight_kg     NUMERIC(10, 3) CHECK (weight_kg >= 0),
    max_per_order INTEGER NOT NULL DEFAULT 100 CHECK (max_per_order BETWEEN 1 AND 10000),
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT products_seller_sku_key UNIQUE (seller_id, sku)
);

-- Keyset pagination: every sort the list endpoint offers ends with the id.
CREATE INDEX products_seller_id_idx ON products (seller_id, id);
CREATE INDEX products_category_id_idx ON products (category, id);
CREATE INDEX products_price_id_idx ON products (price_usd, id);
CREATE INDEX products_name_id_idx ON products (name, id);
CREATE INDEX products_active_id_idx ON products (id) WHERE active;
-- Substring search on name and SKU (ILIKE '%term%').
CREATE INDEX products_name_trgm_idx ON products USING gin (name gin_trgm_ops);
CREATE INDEX products_sku_trgm_idx ON products USING gin (sku gin_trgm_ops);

CREATE TABLE product_price_history (
    id            UUID PRIMARY KEY,
    product_id    UUID NOT NULL REFERENCES products (id),
    old_price_usd NUMERIC(12, 2),
    new_price_usd NUMERIC(12, 2) NOT NULL CHECK (new_price_usd > 0),
    changed_by    UUID,
    changed_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX product_price_history_product_idx ON product_price_history (product_id, id);
