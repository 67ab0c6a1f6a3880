-- The short order number is drawn by the insert itself (one statement less
-- per order than drawing it first).
ALTER TABLE orders ALTER COLUMN number SET DEFAULT 'CN-' || lpad(nextval('order_number_seq')::text, 6, '0');
