-- The registry (DESIGN §5): v2 lab records, accreditation bodies and regulators, and the
-- credential a lab result carries. History tables like those of 001: plain MergeTree, every
-- snapshot kept, deduplicated by event_id at query time (query/registry.py), "as of" by ingested_at.
--
-- A lab's accreditations (each with its status history and scope), qualifications and signing
-- keys are stored as JSON text: their JSON form (traceability/json_form.py), so the nested
-- histories need no Nested-inside-Nested, which ClickHouse does not have. Rows of v1 labs hold
-- '[]': no explicit accreditations (their v1 columns describe the one they have).
--
-- 18.16 has no ADD COLUMN IF NOT EXISTS: sinks/clickhouse.py `migrate` looks each added column up
-- in system.columns first (so keep one ADD COLUMN per ALTER), a current ClickHouse runs them as written.
ALTER TABLE {db}.labs ADD COLUMN IF NOT EXISTS legal_id String AFTER registered_at;
ALTER TABLE {db}.labs ADD COLUMN IF NOT EXISTS names Array(String) AFTER legal_id;
ALTER TABLE {db}.labs ADD COLUMN IF NOT EXISTS accreditations_json String DEFAULT '[]' AFTER names;
ALTER TABLE {db}.labs ADD COLUMN IF NOT EXISTS qualifications_json String DEFAULT '[]' AFTER accreditations_json;
ALTER TABLE {db}.labs ADD COLUMN IF NOT EXISTS keys_json String DEFAULT '[]' AFTER qualifications_json;

-- The compact JWS of the report version ('' when unsigned). `signature` stays what it was: the
-- reserved lotline-signature message header, unused so far.
ALTER TABLE {db}.lab_results ADD COLUMN IF NOT EXISTS credential String AFTER signature;

CREATE TABLE IF NOT EXISTS {db}.accreditation_bodies (
    event_id String,
    body_id String,
    name String,
    economy String,
    mra_testing Nested(start DateTime, `end` Nullable(DateTime)),
    registered_at DateTime,
    kafka_partition UInt32,
    kafka_offset UInt64,
    ingested_at DateTime
) ENGINE = MergeTree ORDER BY (body_id, event_id);

CREATE TABLE IF NOT EXISTS {db}.regulators (
    event_id String,
    regulator_id String,
    name String,
    jurisdiction Array(String),
    recognises_mra_signatories UInt8,
    recognised_bodies Array(String),
    required_qualifications Array(String),
    registered_at DateTime,
    kafka_partition UInt32,
    kafka_offset UInt64,
    ingested_at DateTime
) ENGINE = MergeTree ORDER BY (regulator_id, event_id);
