-- Amendments are co-signed (Civil Procedure Code Art. 236, Criminal Procedure Code Art. 258: the
-- presiding judge and the clerk both sign corrections to the minutes): an amendment written by the
-- presiding judge is signed by the clerk, and one written by the clerk by the judge. Signatures are
-- only ever inserted, each with an entry in the hearing's hash chain.

-- The capacity the author wrote the amendment in (a user's role may change later).
ALTER TABLE amendments ADD COLUMN author_role TEXT NOT NULL DEFAULT 'secretary';
UPDATE amendments SET author_role = (SELECT role FROM users WHERE users.id = amendments.author_id)
    WHERE (SELECT role FROM users WHERE users.id = amendments.author_id) IN ('judge', 'secretary');

CREATE TABLE amendment_signatures (
    id           INTEGER PRIMARY KEY,
    amendment_id INTEGER NOT NULL UNIQUE REFERENCES amendments(id),
    hearing_id   INTEGER NOT NULL REFERENCES hearings(id),
    user_id      INTEGER NOT NULL REFERENCES users(id),
    role         TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
