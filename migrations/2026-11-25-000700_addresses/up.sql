-- Users' address books: several addresses, one default.
CREATE TABLE addresses (
    id              UUID PRIMARY KEY,
    user_id         UUID NOT NULL,
    label           TEXT NOT NULL DEFAULT '' CHECK (length(label) <= 40),
    recipient       TEXT NOT NULL CHECK (length(recipient) BETWEEN 1 AND 120),
    phone           TEXT NOT NULL CHECK (phone ~ '^\+58[0-9]{10}$'),
    national_id     TEXT NOT NULL CHECK (length(national_id) BETWEEN 3 AND 14),
    state           TEXT NOT NULL,
    municipality    TEXT NOT NULL CHECK (length(municipality) BETWEEN 1 AND 80),
    city            TEXT NOT NULL CHECK (length(city) BETWEEN 1 AND 80),
    line1           TEXT NOT NULL CHECK (length(line1) BETWEEN 1 AND 200),
    line2           TEXT NOT NULL DEFAULT '' CHECK (length(line2) <= 200),
    reference_point TEXT NOT NULL DEFAULT '' CHECK (length(reference_point) <= 200),
    latitude        DOUBLE PRECISION,
    longitude       DOUBLE PRECISION,
    is_default      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((latitude IS NULL) = (longitude IS NULL))
);

CREATE INDEX addresses_user_idx ON addresses (user_id, created_at);
CREATE UNIQUE INDEX addresses_one_default_idx ON addresses (user_id) WHERE is_default;
