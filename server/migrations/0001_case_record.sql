-- The case record: court → courtroom → case → hearing → recordings → transcript revisions,
-- plus users, tokens, the job queue, live ingest sessions, the audit log and the hash chain.
-- Times are RFC 3339 UTC strings; token expiry is unix seconds (compared in SQL).

CREATE TABLE courts (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE courtrooms (
    id       INTEGER PRIMARY KEY,
    court_id INTEGER NOT NULL REFERENCES courts(id),
    name     TEXT NOT NULL,
    UNIQUE (court_id, name)
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'station', 'secretary', 'judge', 'reviewer')),
    courtroom_id  INTEGER REFERENCES courtrooms(id),
    created_at    TEXT NOT NULL
);

CREATE TABLE tokens (
    token_sha256 TEXT PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id),
    expires_at   INTEGER NOT NULL
);

CREATE TABLE cases (
    id         INTEGER PRIMARY KEY,
    court_id   INTEGER NOT NULL REFERENCES courts(id),
    number     TEXT NOT NULL,
    title      TEXT NOT NULL,
    kind       TEXT NOT NULL,
    created_by INTEGER NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    UNIQUE (court_id, number)
);

CREATE TABLE hearings (
    id           INTEGER PRIMARY KEY,
    case_id      INTEGER NOT NULL REFERENCES cases(id),
    courtroom_id INTEGER NOT NULL REFERENCES courtrooms(id),
    language     TEXT NOT NULL,
    scheduled_at TEXT,
    -- JSON array of {name, role}: the trial panel, clerk, procurator, parties.
    participants TEXT NOT NULL DEFAULT '[]',
    created_by   INTEGER NOT NULL REFERENCES users(id),
    created_at   TEXT NOT NULL
);

CREATE TABLE recordings (
    id          INTEGER PRIMARY KEY,
    hearing_id  INTEGER NOT NULL REFERENCES hearings(id),
    -- Relative to the data folder.
    path        TEXT NOT NULL UNIQUE,
    source      TEXT NOT NULL CHECK (source IN ('upload', 'live')),
    codec       TEXT NOT NULL,
    channels    INTEGER NOT NULL,
    sample_rate INTEGER NOT NULL,
    duration    REAL NOT NULL,
    bytes       INTEGER NOT NULL,
    file_sha256 TEXT NOT NULL,
    pcm_sha256  TEXT NOT NULL,
    created_by  INTEGER NOT NULL REFERENCES users(id),
    created_at  TEXT NOT NULL
);

CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY,
    recording_id INTEGER NOT NULL UNIQUE REFERENCES recordings(id),
    hearing_id   INTEGER NOT NULL REFERENCES hearings(id),
    -- Higher runs first: live hearings before batch uploads.
    priority     INTEGER NOT NULL DEFAULT 0,
    status       TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    error        TEXT,
    created_at   TEXT NOT NULL,
    finished_at  TEXT
);
CREATE INDEX jobs_queue ON jobs (status, priority DESC, id);

CREATE TABLE revisions (
    id             INTEGER PRIMARY KEY,
    hearing_id     INTEGER NOT NULL REFERENCES hearings(id),
    number         INTEGER NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('asr', 'edit')),
    -- The job whose result this is (ASR revisions): at most one revision per job, so a job that
    -- runs again after a crash can never add its segments twice.
    job_id         INTEGER UNIQUE REFERENCES jobs(id),
    author_id      INTEGER REFERENCES users(id),
    author         TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    content        TEXT NOT NULL,
    content_sha256 TEXT NOT NULL,
    UNIQUE (hearing_id, number)
);

CREATE TABLE live_sessions (
    -- Chosen by the station; the same id resumes the same stream.
    id           TEXT PRIMARY KEY,
    hearing_id   INTEGER NOT NULL REFERENCES hearings(id),
    user_id      INTEGER NOT NULL REFERENCES users(id),
    station      TEXT NOT NULL,
    channels     INTEGER NOT NULL,
    sample_rate  INTEGER NOT NULL,
    -- Frames 0..next_seq are on disk (bytes long) and acknowledged.
    next_seq     INTEGER NOT NULL DEFAULT 0,
    bytes        INTEGER NOT NULL DEFAULT 0,
    state        TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed')),
    recording_id INTEGER REFERENCES recordings(id),
    created_at   TEXT NOT NULL
);

-- Tamper evidence: per hearing, each entry holds the sha256 of its content (a recording's file,
-- a revision's JSON) and of the previous entry.
CREATE TABLE chain (
    id             INTEGER PRIMARY KEY,
    hearing_id     INTEGER NOT NULL REFERENCES hearings(id),
    seq            INTEGER NOT NULL,
    kind           TEXT NOT NULL,
    ref_id         INTEGER NOT NULL,
    content_sha256 TEXT NOT NULL,
    prev_hash      TEXT NOT NULL,
    hash           TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    UNIQUE (hearing_id, seq)
);

CREATE TABLE audit (
    id       INTEGER PRIMARY KEY,
    at       TEXT NOT NULL,
    user_id  INTEGER,
    username TEXT,
    action   TEXT NOT NULL,
    object   TEXT,
    status   INTEGER NOT NULL
);

-- Search across hearings: one row per segment of each hearing's latest revision; `folded` is
-- the text without diacritics, lower case (so "bi cao" finds "bị cáo").
CREATE VIRTUAL TABLE search USING fts5 (
    folded,
    text UNINDEXED,
    hearing_id UNINDEXED,
    start UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 2'
);
