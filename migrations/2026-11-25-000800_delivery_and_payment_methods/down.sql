DROP TABLE payment_methods;
DROP TABLE delivery_options;
