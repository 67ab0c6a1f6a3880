-- Delivery options per seller and payment methods, as data.

CREATE TABLE delivery_options (
    id              UUID PRIMARY KEY,
    seller_id       UUID NOT NULL REFERENCES sellers (id),
    kind            TEXT NOT NULL CHECK (kind IN ('pickup', 'local_delivery', 'courier_office', 'courier_door')),
    name            TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    carrier         TEXT NOT NULL DEFAULT '' CHECK (length(carrier) <= 60),
    base_cost_usd   NUMERIC(10, 2) NOT NULL CHECK (base_cost_usd >= 0),
    per_kg_usd      NUMERIC(10, 2) NOT NULL DEFAULT 0 CHECK (per_kg_usd >= 0),
    free_above_usd  NUMERIC(12, 2) CHECK (free_above_usd > 0),
    -- Where it delivers: states (empty: all) and, for local delivery, municipalities (empty: all of those states).
    states          TEXT[] NOT NULL DEFAULT '{}',
    municipalities  TEXT[] NOT NULL DEFAULT '{}',
    min_days        INTEGER NOT NULL CHECK (min_days >= 0),
    max_days        INTEGER NOT NULL CHECK (max_days >= min_days AND max_days <= 60),
    active          BOOLEAN NOT NULL DEFAULT TRUE,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX delivery_options_seller_idx ON delivery_options (seller_id) WHERE active;

CREATE TABLE payment_methods (
    id                      UUID PRIMARY KEY,
    code                    TEXT NOT NULL UNIQUE CHECK (code IN ('pago_movil', 'bank_transfer', 'zelle', 'cash_usd', 'card')),
    name                    TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    currency                TEXT NOT NULL CHECK (currency IN ('USD', 'VES')),
    instructions            TEXT NOT NULL DEFAULT '' CHECK (length(instructions) <= 2000),
    surcharge_percent       NUMERIC(6, 3) NOT NULL DEFAULT 0 CHECK (surcharge_percent BETWEEN 0 AND 100),
    payment_window_minutes  INTEGER NOT NULL CHECK (payment_window_minutes BETWEEN 5 AND 20160),
    active                  BOOLEAN NOT NULL DEFAULT TRUE,
    created_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at              TIMESTAMPTZ NOT NULL DEFAULT now()
);
