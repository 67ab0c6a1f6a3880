-- Fulfilment: each order line carries its own status (it follows the order
-- today; a per-line return or partial shipment changes only its line), and
-- the order list's date filter has an index.
ALTER TABLE order_items
    ADD COLUMN status TEXT NOT NULL DEFAULT 'reserved'
        CHECK (status IN ('reserved', 'sold', 'shipped', 'delivered', 'cancelled', 'returned'));

CREATE INDEX orders_created_idx ON orders (created_at, id);
CREATE INDEX orders_shipping_status_idx ON orders (shipping_status, id);
