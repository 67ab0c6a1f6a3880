-- The statements canasta's add-to-cart runs (copied from the statement log,
-- RUST_LOG=canasta::sql=trace, one POST /carts/{id}/items on a fresh line),
-- with the same tables, predicates, locks and writes; column lists written
-- as * (Diesel names every column). The write reads every line's product
-- once; the view after it reuses those reads. Every tenth round clears the cart, as
-- the load generator's `add` scenario does. (Price notices are acknowledged
-- only when a line has one, never here.)
\set p random(1, 20)
\set clear random(1, 10)
SELECT 1;
\if :clear = 1
DELETE FROM cart_items WHERE cart_id = ('00000000-0000-7000-a000-' || lpad(:client_id::text, 12, '0'))::uuid;
\endif
BEGIN;
SELECT * FROM carts WHERE id = ('00000000-0000-7000-a000-' || lpad(:client_id::text, 12, '0'))::uuid LIMIT 1 FOR UPDATE;
SELECT * FROM cart_items WHERE cart_id = ('00000000-0000-7000-a000-' || lpad(:client_id::text, 12, '0'))::uuid ORDER BY created_at, id;
SELECT * FROM products INNER JOIN sellers ON products.seller_id = sellers.id WHERE products.id = ANY(ARRAY(SELECT product_id FROM cart_items WHERE cart_id = ('00000000-0000-7000-a000-' || lpad(:client_id::text, 12, '0'))::uuid) || ('00000000-0000-7000-9000-' || lpad(:p::text, 12, '0'))::uuid);
SELECT * FROM stock_levels WHERE product_id = ANY(ARRAY(SELECT product_id FROM cart_items WHERE cart_id = ('00000000-0000-7000-a000-' || lpad(:client_id::text, 12, '0'))::uuid) || ('00000000-0000-7000-9000-' || lpad(:p::text, 12, '0'))::uuid);
SELECT * FROM exchange_rates WHERE effective_at <= now() ORDER BY effective_at DESC, id DESC LIMIT 1;
INSERT INTO cart_items (id, cart_id, product_id, seller_id, quantity, saved_for_later, name, sku, category, seller_name,
                        unit_price_usd, unit_price_ves, rate_id, rate, added_by, created_at, updated_at, line_owner)
VALUES (gen_random_uuid(), ('00000000-0000-7000-a000-' || lpad(:client_id::text, 12, '0'))::uuid,
        ('00000000-0000-7000-9000-' || lpad(:p::text, 12, '0'))::uuid, '00000000-0000-7000-8000-000000000001', 1, false,
        'Harina PAN', 'C1', 'bench', 'Ceiling', 1.99, 72.64, '00000000-0000-7000-b000-000000000001', 36.5, NULL, now(), now(),
        '00000000-0000-0000-0000-000000000000')
ON CONFLICT (cart_id, product_id, line_owner) DO UPDATE SET quantity = cart_items.quantity + 1, updated_at = now();
SELECT * FROM cart_items WHERE cart_id = ('00000000-0000-7000-a000-' || lpad(:client_id::text, 12, '0'))::uuid ORDER BY created_at, id;
SELECT * FROM reservations WHERE owner_type = 'cart' AND owner_id = ('00000000-0000-7000-a000-' || lpad(:client_id::text, 12, '0'))::uuid AND status = 'active' LIMIT 1 FOR UPDATE;
SELECT * FROM cart_item_price_changes WHERE item_id = ANY(ARRAY[gen_random_uuid()]) ORDER BY id;
SELECT * FROM fee_rules WHERE active = true ORDER BY code;
UPDATE carts SET version = version + 1, updated_at = now(), last_activity_at = now()
 WHERE id = ('00000000-0000-7000-a000-' || lpad(:client_id::text, 12, '0'))::uuid RETURNING *;
SELECT pg_notify('canasta_events', '{"type":"cart","id":"bench","version":2}');
COMMIT;
