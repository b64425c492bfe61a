-- Tournaments: the append-only event log is the record; `tournaments` is a projection
-- for listing, rebuilt from events at any time.
CREATE TABLE tournaments (
    id         TEXT PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL,
    status     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    version    INTEGER NOT NULL
) STRICT;

CREATE TABLE events (
    tournament_id TEXT NOT NULL REFERENCES tournaments (id),
    seq           INTEGER NOT NULL,
    id            TEXT NOT NULL UNIQUE,
    kind          TEXT NOT NULL,
    payload       TEXT NOT NULL,
    actor         TEXT,
    at            INTEGER NOT NULL,
    PRIMARY KEY (tournament_id, seq)
) STRICT;

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;

-- Saved templates: chip sets, blind structures, buy-ins (JSON bodies).
CREATE TABLE templates (
    id         TEXT PRIMARY KEY NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('chip_set', 'structure', 'buy_in')),
    name       TEXT NOT NULL,
    body       TEXT NOT NULL,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
CREATE UNIQUE INDEX templates_kind_name ON templates (kind, name COLLATE NOCASE);
