DROP TABLE cart_stream_tickets;
