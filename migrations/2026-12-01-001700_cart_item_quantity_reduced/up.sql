-- A quantity lowered by a read (stock or the per-order maximum fell) keeps its notice until the
-- shopper's own next write acknowledges it, whoever read the cart in between.
ALTER TABLE cart_items ADD COLUMN quantity_reduced_from integer CHECK (quantity_reduced_from > 0);
