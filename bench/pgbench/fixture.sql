-- Data for the pgbench ceiling: one seller, 20 products with stock, a rate,
-- a fee rule, and one active cart per pgbench client (ids derived from the
-- client number so the script needs no lookup). :clients is set by psql.
INSERT INTO sellers (id, display_name) VALUES ('00000000-0000-7000-8000-000000000001', 'Ceiling');
INSERT INTO products (id, seller_id, sku, name, description, category, price_usd, weight_kg, max_per_order, active)
SELECT ('00000000-0000-7000-9000-' || lpad(n::text, 12, '0'))::uuid, '00000000-0000-7000-8000-000000000001',
       'C' || n, 'Harina PAN ' || n, '', 'bench', 1.99, 1.000, 1000, true
FROM generate_series(1, 20) n;
INSERT INTO stock_levels (product_id, on_hand)
SELECT ('00000000-0000-7000-9000-' || lpad(n::text, 12, '0'))::uuid, 100000000 FROM generate_series(1, 20) n;
INSERT INTO exchange_rates (id, rate, effective_at, source)
VALUES ('00000000-0000-7000-b000-000000000001', 36.5, now() - interval '1 hour', 'ceiling');
INSERT INTO fee_rules (id, code, name, kind, amount) VALUES ('00000000-0000-7000-c000-000000000001', 'service_fee', 'Fee', 'percent', 2);
INSERT INTO carts (id, user_id)
SELECT ('00000000-0000-7000-a000-' || lpad(n::text, 12, '0'))::uuid, gen_random_uuid() FROM generate_series(0, :clients) n;
