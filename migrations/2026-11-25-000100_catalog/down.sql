DROP TABLE product_price_history;
DROP TABLE products;
DROP TABLE sellers;
DROP EXTENSION IF EXISTS pg_trgm;
