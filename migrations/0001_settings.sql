-- Venue-wide settings as key/value pairs (venue name, currency, the smallest chip or
-- cash denomination, …). Values are JSON text.
CREATE TABLE settings (
    key        TEXT PRIMARY KEY NOT NULL,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
