-- Idempotency keys expire after a retention (24 hours by default): the job deletes them by age.
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
