-- The statements canasta's add-to-cart runs (copied from the statement log,
-- RUST_LOG=canasta::sql=trace, one POST /carts/{id}/items), with the same
-- tables, predicates, locks and writes; column lists written as * (Diesel
-- names every column). The write reads the lines and every line's product
-- and stock once (stock together with the cart's own hold); the view after
-- it reuses those reads; the version bump publishes the cart event in the
-- same UPDATE. Every tenth round clears the cart, as the load generator's
-- `add` scenario does. scripts/ceiling runs it with -M prepared (canasta's
-- statements are all prepared once per connection) and -M simple.
\set p random(1, 20)
\set clear random(1, 10)
\if :clear = 1
DELETE FROM cart_items WHERE cart_id = ('00000000-0000-7000-a000-' || lpad(:client_id::text, 12, '0'))::uuid;
\endif
BEGIN;
SELECT * FROM carts WHERE id = ('00000000-0000-7000-a000-' || lpad(:client_id::text, 12, '0'))::uuid LIMIT 1 FOR UPDATE;
SELECT * FROM cart_items WHERE cart_id = ('00000000-0000-7000-a000-' || lpad(:client_id::text, 12, '0'))::uuid ORDER BY created_at, id;
SELECT * FROM products INNER JOIN sellers ON products.seller_id = sellers.id WHERE products.id = ANY(ARRAY(SELECT product_id FROM cart_items WHERE cart_id = ('00000000-0000-7000-a000-' || lpad(:client_id::text, 12, '0'))::uuid) || ('00000000-0000-7000-9000-' || lpad(:p::text, 12, '0'))::uuid);
SELECT stock_levels.*, reservation_lines.quantity FROM stock_levels LEFT JOIN reservation_lines ON reservation_lines.product_id = stock_levels.product_id AND reservation_lines.reservation_id = ANY(SELECT id FROM reservations WHERE owner_type = 'cart' AND owner_id = ('00000000-0000-7000-a000-' || lpad(:client_id::text, 12, '0'))::uuid AND status = 'active') WHERE stock_levels.product_id = ANY(ARRAY(SELECT product_id FROM cart_items WHERE cart_id = ('00000000-0000-7000-a000-' || lpad(:client_id::text, 12, '0'))::uuid) || ('00000000-0000-7000-9000-' || lpad(:p::text, 12, '0'))::uuid);
SELECT * FROM exchange_rates WHERE effective_at <= now() ORDER BY effective_at DESC, id DESC LIMIT 1;
INSERT INTO cart_items (id, cart_id, product_id, seller_id, quantity, saved_for_later, name, sku, category, seller_name, unit_price_usd, unit_price_ves, rate_id, rate, added_by, created_at, updated_at, line_owner, price_changes) VALUES (gen_random_uuid(), ('00000000-0000-7000-a000-' || lpad(:client_id::text, 12, '0'))::uuid, ('00000000-0000-7000-9000-' || lpad(:p::text, 12, '0'))::uuid, '00000000-0000-7000-8000-000000000001', 1, false, 'Harina PAN', 'C1', 'bench', 'Ceiling', 1.99, 72.64, '00000000-0000-7000-b000-000000000001', 36.5, NULL, now(), now(), '00000000-0000-0000-0000-000000000000', 0) ON CONFLICT (cart_id, product_id, line_owner) DO UPDATE SET quantity = cart_items.quantity + 1, updated_at = now() RETURNING id;
SELECT * FROM fee_rules WHERE active = true ORDER BY code;
UPDATE carts SET version = version + 1, updated_at = now(), last_activity_at = now() WHERE id = ('00000000-0000-7000-a000-' || lpad(:client_id::text, 12, '0'))::uuid RETURNING *, pg_notify('canasta_events', '{"type":"cart","id":"bench","version":2}') IS NOT NULL;
COMMIT;
