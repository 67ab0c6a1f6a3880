-- Payment references buyers submit for manual methods, checked by the seller or an operator.
CREATE TABLE payment_submissions (
    id           UUID PRIMARY KEY,
    order_id     UUID NOT NULL REFERENCES orders (id),
    method       TEXT NOT NULL,
    details      JSONB NOT NULL,
    bank         TEXT NOT NULL DEFAULT '',
    reference    TEXT NOT NULL,
    duplicate_of UUID REFERENCES orders (id),
    status       TEXT NOT NULL DEFAULT 'submitted' CHECK (status IN ('submitted', 'verified', 'rejected')),
    reason       TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX payment_submissions_order_idx ON payment_submissions (order_id, id);
CREATE INDEX payment_submissions_reference_idx ON payment_submissions (method, bank, reference);
