-- Report judgements and the transparency log (DESIGN §5).

-- How each report version is judged: authenticity (outcome), acceptance, and what it counts as
-- towards its batch's status ('' = nothing). Written by the closure agent whenever a judgement
-- changes (a lab's record arrived or changed); seq orders them like batch_status.seq, so the
-- row with the highest seq per event is the current judgement (as of known_at).
CREATE TABLE IF NOT EXISTS {db}.report_judgements (
    lab_id String,
    report_id String,
    report_version UInt32,
    event_id String,
    batch_id String,
    outcome String,
    acceptance String,
    counts_as String,
    seq UInt64,
    closure_partition UInt16,
    known_at DateTime
) ENGINE = MergeTree ORDER BY (lab_id, report_id, event_id, seq);

-- The transparency log's entries with their place in partition 0 of the log topic (a record carries
-- many entries, one per line: log_index is the entry's line): the leaves of the log's Merkle tree
-- are the distinct entries in order of first place (repeats are one leaf).
CREATE TABLE IF NOT EXISTS {db}.log_entries (
    entry String,
    entry_sha256 String,
    log_partition UInt16,
    log_offset UInt64,
    log_index UInt32,
    known_at DateTime
) ENGINE = MergeTree ORDER BY (log_partition, log_offset, log_index);
