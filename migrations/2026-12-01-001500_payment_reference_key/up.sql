-- Payment references are compared without separators or spacing ("0045-1234" = "00451234").
ALTER TABLE payment_submissions ADD COLUMN reference_key TEXT NOT NULL DEFAULT '';
UPDATE payment_submissions SET reference_key = upper(regexp_replace(reference, '[^A-Za-z0-9]', '', 'g'));
DROP INDEX payment_submissions_reference_idx;
CREATE INDEX payment_submissions_reference_idx ON payment_submissions (method, bank, reference_key);
