-- Organisations (DESIGN §5): the registry's least master data, where an organisation is, so that
-- the place a batch was made follows from the org_id of its production event. A history table
-- like those of 004: plain MergeTree, every snapshot kept, deduplicated by event_id at query time
-- (query/registry.py), "as of" by ingested_at. Locations (sites, GLNs, addresses) come with v2.
CREATE TABLE IF NOT EXISTS {db}.organisations (
    event_id String,
    org_id String,
    name String,
    country String,
    subdivision String,
    roles Array(String),
    registered_at DateTime,
    kafka_partition UInt32,
    kafka_offset UInt64,
    ingested_at DateTime
) ENGINE = MergeTree ORDER BY (org_id, event_id);
