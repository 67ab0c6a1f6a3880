ALTER TABLE cart_items DROP COLUMN quantity_reduced_from;
