-- Lineage edges the closure refused because they would close a cycle (DESIGN §3.4), written by
-- the closure agent next to the dead letter. The history keeps every edge it was sent
-- (lineage_edges); answers that walk edges leave out the ones listed here, so a refused edge
-- never shows up as a link in a trace or a recall.
CREATE TABLE IF NOT EXISTS {db}.refused_edges (
    event_id String,
    parent_batch String,
    child_batch String,
    reason String,
    known_at DateTime
) ENGINE = MergeTree ORDER BY (child_batch, parent_batch, event_id);
