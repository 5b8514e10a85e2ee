-- Approval of the minutes (Civil Procedure Code Art. 236, Criminal Procedure Code Art. 258): the
-- presiding judge's approval freezes the minutes at one revision; the clerk co-signs. Afterwards,
-- corrections are appended as amendments, never edits in place.
CREATE TABLE approvals (
    id          INTEGER PRIMARY KEY,
    hearing_id  INTEGER NOT NULL REFERENCES hearings(id),
    revision_id INTEGER NOT NULL REFERENCES revisions(id),
    user_id     INTEGER NOT NULL REFERENCES users(id),
    role        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (hearing_id, user_id)
);

CREATE TABLE amendments (
    id         INTEGER PRIMARY KEY,
    hearing_id INTEGER NOT NULL REFERENCES hearings(id),
    text       TEXT NOT NULL,
    author_id  INTEGER NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL
);

-- The revision the presiding judge approved; NULL while the minutes are a draft.
ALTER TABLE hearings ADD COLUMN approved_revision INTEGER REFERENCES revisions(id);
