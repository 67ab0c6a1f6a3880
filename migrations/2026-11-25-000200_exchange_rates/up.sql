-- USD->VES exchange rates: history only, never updated or deleted.
CREATE TABLE exchange_rates (
    id             UUID PRIMARY KEY,
    base_currency  TEXT NOT NULL DEFAULT 'USD' CHECK (base_currency = 'USD'),
    quote_currency TEXT NOT NULL DEFAULT 'VES' CHECK (quote_currency = 'VES'),
    rate           NUMERIC(20, 8) NOT NULL CHECK (rate > 0),
    effective_at   TIMESTAMPTZ NOT NULL,
    source         TEXT NOT NULL CHECK (length(source) BETWEEN 1 AND 64),
    created_by     UUID,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT exchange_rates_pair_effective_key UNIQUE (base_currency, quote_currency, effective_at)
);

CREATE INDEX exchange_rates_effective_idx ON exchange_rates (effective_at DESC, id DESC);
