DROP INDEX exchange_rates_unannounced_idx;
ALTER TABLE exchange_rates DROP COLUMN announced_at;
