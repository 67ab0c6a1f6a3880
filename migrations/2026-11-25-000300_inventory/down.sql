DROP TABLE outbox;
DROP TABLE stock_alerts;
DROP TABLE stock_movements;
DROP TABLE reservation_lines;
DROP TABLE reservations;
DROP TABLE stock_levels;
