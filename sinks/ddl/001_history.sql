-- Append-only history (DESIGN §4). Plain MergeTree on purpose: at-least-once delivery may insert
-- a row twice, and answers dedup by event_id at query time (GROUP BY / argMin), so the first
-- ingested_at of every event survives and "as known at T" stays exact. Runs on 18.16 and current.
CREATE TABLE IF NOT EXISTS {db}.lab_results (
    event_id String,
    report_id String,
    report_version UInt32,
    lab_id String,
    batch_id String,
    sample_id String,
    method String,
    verdict Enum8('pass' = 1, 'fail' = 2, 'withdrawn' = 3),
    tested_at DateTime,
    issued_at DateTime,
    measurements Nested(
        analyte String,
        value Float64,
        unit String,
        limit_value Nullable(Float64),
        verdict Enum8('pass' = 1, 'fail' = 2, 'withdrawn' = 3)
    ),
    signature String,
    kafka_partition UInt32,
    kafka_offset UInt64,
    ingested_at DateTime
) ENGINE = MergeTree ORDER BY (batch_id, report_id, report_version, event_id);

CREATE TABLE IF NOT EXISTS {db}.production_events (
    event_id String,
    org_id String,
    site String,
    occurred_at DateTime,
    inputs Nested(batch_id String, quantity Float64, unit String),
    outputs Nested(batch_id String, product_id String, quantity Float64, unit String),
    kafka_partition UInt32,
    kafka_offset UInt64,
    ingested_at DateTime
) ENGINE = MergeTree ORDER BY event_id;

CREATE TABLE IF NOT EXISTS {db}.lineage_edges (
    event_id String,
    parent_batch String,
    child_batch String,
    parent_quantity Float64,
    parent_unit String,
    child_product String,
    child_quantity Float64,
    child_unit String,
    org_id String,
    site String,
    occurred_at DateTime,
    ingested_at DateTime
) ENGINE = MergeTree ORDER BY (child_batch, parent_batch, event_id);

CREATE TABLE IF NOT EXISTS {db}.shipments (
    event_id String,
    shipment_id String,
    batch_id String,
    quantity Float64,
    unit String,
    from_org String,
    to_org String,
    to_location String,
    to_country FixedString(2),
    occurred_at DateTime,
    kafka_partition UInt32,
    kafka_offset UInt64,
    ingested_at DateTime
) ENGINE = MergeTree ORDER BY (batch_id, event_id);

CREATE TABLE IF NOT EXISTS {db}.labs (
    event_id String,
    lab_id String,
    name String,
    accreditation_body String,
    accreditation_number String,
    accredited_methods Array(String),
    region String,
    valid_from DateTime,
    valid_until DateTime,
    public_keys Array(String),
    registered_at DateTime,
    kafka_partition UInt32,
    kafka_offset UInt64,
    ingested_at DateTime
) ENGINE = MergeTree ORDER BY (lab_id, event_id);

-- Every rejected event, fed from the dead-letter topic only. reject_id = sha256 of the
-- original bytes: the same bad bytes published twice are one reject, with every sighting kept.
CREATE TABLE IF NOT EXISTS {db}.rejects (
    reject_id String,
    reason String,
    source String,
    event_kind String,
    event_id String,
    original String,
    original_topic String,
    original_partition Int32,
    original_offset Int64,
    rejected_at DateTime,
    dead_letter_partition UInt32,
    dead_letter_offset UInt64,
    ingested_at DateTime
) ENGINE = MergeTree ORDER BY (reject_id, rejected_at);
