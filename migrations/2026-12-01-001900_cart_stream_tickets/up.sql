-- Short-lived, single-use tickets that let a browser's EventSource (which cannot send an
-- Authorization header) open a cart's event stream. Stored hashed; expired ones are deleted by a job.
CREATE TABLE cart_stream_tickets (
    ticket_hash TEXT PRIMARY KEY,
    cart_id     UUID NOT NULL REFERENCES carts (id),
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX cart_stream_tickets_expires_idx ON cart_stream_tickets (expires_at);
