DROP TABLE payment_submissions;
