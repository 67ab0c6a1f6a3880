ALTER TABLE cart_items DROP COLUMN price_changes;
