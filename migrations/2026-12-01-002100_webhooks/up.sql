-- Webhook endpoints integrators register: the marketplace's own (seller_id
-- NULL, managed by admins) or a seller's (its own orders and stock only).
-- The secret signs every delivery (Standard Webhooks); during a rotation the
-- previous one signs too until previous_secret_until.
CREATE TABLE webhook_endpoints (
    id                    UUID PRIMARY KEY,
    seller_id             UUID REFERENCES sellers (id),
    url                   TEXT NOT NULL CHECK (length(url) BETWEEN 8 AND 2000),
    description           TEXT NOT NULL DEFAULT '' CHECK (length(description) <= 200),
    event_types           TEXT[] NOT NULL CHECK (cardinality(event_types) BETWEEN 1 AND 20),
    secret                TEXT NOT NULL,
    previous_secret       TEXT,
    previous_secret_until TIMESTAMPTZ,
    active                BOOLEAN NOT NULL DEFAULT true,
    disabled_reason       TEXT NOT NULL DEFAULT '',
    failing_since         TIMESTAMPTZ,
    created_by            UUID NOT NULL,
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL
);
CREATE INDEX webhook_endpoints_seller_idx ON webhook_endpoints (seller_id);

-- One message to one recipient on one channel, fanned out from an outbox
-- event (or a test ping). Unique per (event, channel, recipient): two
-- dispatchers, or a dispatcher restarted mid-batch, cannot make a second.
CREATE TABLE deliveries (
    id               UUID PRIMARY KEY,
    event_id         UUID NOT NULL,
    topic            TEXT NOT NULL,
    channel          TEXT NOT NULL CHECK (channel IN ('webhook')),
    recipient        TEXT NOT NULL,
    endpoint_id      UUID REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    payload          JSONB NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'dead')),
    attempts         INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at  TIMESTAMPTZ NOT NULL,
    last_error       TEXT NOT NULL DEFAULT '',
    response_status  INTEGER,
    response_excerpt TEXT NOT NULL DEFAULT '',
    sent_at          TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    UNIQUE (event_id, channel, recipient)
);
CREATE INDEX deliveries_due_idx ON deliveries (next_attempt_at)
    WHERE status IN ('pending', 'sending', 'failed');
CREATE INDEX deliveries_endpoint_idx ON deliveries (endpoint_id, id);
