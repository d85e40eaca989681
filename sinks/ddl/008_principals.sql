-- API principals (DESIGN §5, access by role): who holds an API key, with which role and party.
-- Append-only like the history: a row per change ('added' once, 'revoked' at most once in effect;
-- a repeated revocation is harmless), folded into each principal's state by query/principals.py.
-- Plain MergeTree, so it runs on 18.16 and current. Written by `lotline principals`, not the stream.
--
-- key_sha256 is the hex SHA-256 of the API key, never the key. A fast unsalted hash is right here:
-- a key is 256 random bits (secrets.token_urlsafe(32)), so there is no dictionary to precompute and
-- nothing to slow down; a password hash (bcrypt, argon2) would only cost every request time. The
-- revoked row repeats the principal's fields and hash, so any one row says whose key it was.
CREATE TABLE IF NOT EXISTS {db}.principals (
    principal_id String,
    change Enum8('added' = 1, 'revoked' = 2),
    role Enum8('lab' = 1, 'org' = 2, 'regulator' = 3, 'admin' = 4),
    lab_id String,
    org_id String,
    regulator_id String,
    name String,
    key_sha256 String,
    at DateTime
) ENGINE = MergeTree ORDER BY (principal_id, at, change);
