-- How many price changes a cart line has recorded, so reading a cart asks
-- for the history only of lines that have one (one statement less per cart
-- read and write in the common case).
ALTER TABLE cart_items ADD COLUMN price_changes integer NOT NULL DEFAULT 0 CHECK (price_changes >= 0);
UPDATE cart_items i
   SET price_changes = c.n
  FROM (SELECT item_id, count(*)::integer AS n FROM cart_item_price_changes GROUP BY item_id) c
 WHERE c.item_id = i.id;
