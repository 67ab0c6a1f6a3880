DROP INDEX payment_submissions_reference_idx;
ALTER TABLE payment_submissions DROP COLUMN reference_key;
CREATE INDEX payment_submissions_reference_idx ON payment_submissions (method, bank, reference);
