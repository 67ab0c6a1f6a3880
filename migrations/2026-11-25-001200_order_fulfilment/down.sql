DROP INDEX orders_shipping_status_idx;
DROP INDEX orders_created_idx;
ALTER TABLE order_items DROP COLUMN status;
