DROP TABLE fee_rules;
DROP TABLE cart_item_price_changes;
DROP TABLE cart_items;
DROP TABLE carts;
