-- Lineage closure and batch status, written by the closure agent (DESIGN §3-4).
-- Append-only like the history: a pair is written again when a shorter depth is found, and
-- at-least-once delivery may repeat rows, so answers take min(depth) per pair and the row with
-- the highest seq per batch, among rows with known_at <= the moment asked about ("as of").

-- Upstream index: every ancestor of a batch ("what went into it").
CREATE TABLE IF NOT EXISTS {db}.closure (
    descendant String,
    ancestor String,
    depth UInt16,
    known_at DateTime
) ENGINE = MergeTree ORDER BY (descendant, ancestor);

-- Downstream index: every descendant of a batch ("where did it go"), filled by the view below.
CREATE TABLE IF NOT EXISTS {db}.closure_by_ancestor (
    ancestor String,
    descendant String,
    depth UInt16,
    known_at DateTime
) ENGINE = MergeTree ORDER BY (ancestor, descendant);

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.closure_by_ancestor_mv TO {db}.closure_by_ancestor
AS SELECT ancestor, descendant, depth, known_at FROM {db}.closure;

-- Status history. seq is the position in the batch's partition of the closure topic (record
-- offset << 20 | index in the record) of the message that caused the change: a batch lives in
-- one partition and its messages are applied in that order, so the highest seq is the latest
-- status, even within one second (streams/closure.py explains why replays keep this true).
CREATE TABLE IF NOT EXISTS {db}.batch_status (
    batch_id String,
    status Enum8('untested' = 0, 'clear' = 1, 'at_risk' = 2, 'failed' = 3),
    risk_sources Array(String),
    seq UInt64,
    closure_partition UInt32,
    known_at DateTime
) ENGINE = MergeTree ORDER BY (batch_id, seq);
