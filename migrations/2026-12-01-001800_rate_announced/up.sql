-- A rate scheduled for later is announced (carts told they are stale) when it takes effect:
-- the job claims rates with effective_at <= now() and no announced_at.
ALTER TABLE exchange_rates ADD COLUMN announced_at TIMESTAMPTZ;
UPDATE exchange_rates SET announced_at = created_at WHERE effective_at <= now();
CREATE INDEX exchange_rates_unannounced_idx ON exchange_rates (effective_at) WHERE announced_at IS NULL;
