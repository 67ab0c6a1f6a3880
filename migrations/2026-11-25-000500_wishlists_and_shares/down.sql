DROP TABLE cart_shares;
DROP TABLE wishlist_items;
DROP TABLE wishlists;
