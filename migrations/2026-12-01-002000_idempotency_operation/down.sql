ALTER TABLE idempotency_keys DROP COLUMN operation;
ALTER TABLE idempotency_keys RENAME COLUMN resource_id TO checkout_id;
