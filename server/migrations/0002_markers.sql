-- Clerk markers: timestamped notes ("Bắt đầu xét hỏi", "Tạm nghỉ", free text) sent by a
-- station during a live session or added by a clerk; they reach the minutes.
CREATE TABLE markers (
    id         INTEGER PRIMARY KEY,
    hearing_id INTEGER NOT NULL REFERENCES hearings(id),
    -- The live session the offset refers to (NULL: the hearing's first recording).
    session    TEXT,
    -- Seconds from the start of the session's (or the hearing's) audio.
    offset     REAL NOT NULL,
    text       TEXT NOT NULL,
    -- The station's own id for the marker: a marker sent twice (after a reconnect) is stored once.
    client_id  TEXT,
    author_id  INTEGER NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    UNIQUE (hearing_id, client_id)
);
