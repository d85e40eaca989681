-- Master data and the tracking events of the official forms (FSMA 204's sortable spreadsheet, an EU
-- Safety Gate notification): organisations v2 (phone, locations), products, receivings, and where
-- productions and shipments happened with their reference documents. History tables like 004/006:
-- plain MergeTree, every snapshot and event kept, deduplicated by event_id at query time.
--
-- An organisation's locations are the JSON text of their JSON form (as a lab's accreditations in
-- 004): they are read with the organisation, never filtered on. Reference documents (at most two
-- per event) are two parallel arrays. Columns added to existing tables go at their end, with
-- defaults, so rows written before read as "not given".
ALTER TABLE {db}.organisations ADD COLUMN IF NOT EXISTS phone String DEFAULT '';
ALTER TABLE {db}.organisations ADD COLUMN IF NOT EXISTS locations_json String DEFAULT '[]';

ALTER TABLE {db}.production_events ADD COLUMN IF NOT EXISTS location_id String DEFAULT '';
ALTER TABLE {db}.production_events ADD COLUMN IF NOT EXISTS tlc_source_reference String DEFAULT '';
ALTER TABLE {db}.production_events ADD COLUMN IF NOT EXISTS reference_document_types Array(String);
ALTER TABLE {db}.production_events ADD COLUMN IF NOT EXISTS reference_document_numbers Array(String);

ALTER TABLE {db}.shipments ADD COLUMN IF NOT EXISTS from_location String DEFAULT '';
ALTER TABLE {db}.shipments ADD COLUMN IF NOT EXISTS to_location_id String DEFAULT '';
ALTER TABLE {db}.shipments ADD COLUMN IF NOT EXISTS reference_document_types Array(String);
ALTER TABLE {db}.shipments ADD COLUMN IF NOT EXISTS reference_document_numbers Array(String);

CREATE TABLE IF NOT EXISTS {db}.receivings (
    event_id String,
    receipt_id String,
    batch_id String,
    quantity Float64,
    unit String,
    from_org String,
    to_org String,
    location_id String,
    occurred_at DateTime,
    from_location String,
    shipment_id String,
    reference_document_types Array(String),
    reference_document_numbers Array(String),
    kafka_partition UInt32,
    kafka_offset UInt64,
    ingested_at DateTime
) ENGINE = MergeTree ORDER BY (batch_id, event_id);

CREATE TABLE IF NOT EXISTS {db}.products (
    event_id String,
    product_id String,
    org_id String,
    name String,
    registered_at DateTime,
    brand String,
    commodity String,
    variety String,
    packaging_size String,
    packaging_style String,
    gtin String,
    category String,
    model String,
    description String,
    kafka_partition UInt32,
    kafka_offset UInt64,
    ingested_at DateTime
) ENGINE = MergeTree ORDER BY (product_id, event_id);
