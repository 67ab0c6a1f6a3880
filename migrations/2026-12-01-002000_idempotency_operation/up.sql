-- Idempotency keys serve any operation, not only placement: the resource a
-- key produced is `resource_id`, and `operation` names what was asked
-- (`checkout.place`), so one key cannot be replayed against another one.
ALTER TABLE idempotency_keys RENAME COLUMN checkout_id TO resource_id;
ALTER TABLE idempotency_keys
    ADD COLUMN operation TEXT NOT NULL DEFAULT 'checkout.place'
        CHECK (operation ~ '^[a-z_]+\.[a-z_]+$');
ALTER TABLE idempotency_keys ALTER COLUMN operation DROP DEFAULT;
