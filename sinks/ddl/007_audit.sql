-- The audit log (DESIGN §5, issue 14): one row per API request, appended by the API's audit
-- writer (sinks/audit.py) and read by `lotline audit` (query/audit.py). Never updated.
--
-- 18.16 has no DateTime64 (ClickHouse 20.1 added it): a request's time is `at` (seconds, UTC as
-- every DateTime here) and `at_ms`, the milliseconds within that second. Partitioned by month so
-- a time range reads only the months it spans (every part keeps the min and max of `at`) and old
-- months can be dropped whole (`ALTER TABLE … DROP PARTITION 202611`; 18.16 has no TTL); ordered
-- by principal so one principal's requests are a range of the primary key.
CREATE TABLE IF NOT EXISTS {db}.audit (
    at DateTime,
    at_ms UInt16,
    request_id String,
    principal_id String,
    role String,
    method String,
    endpoint String,
    path String,
    objects Array(String),
    status UInt16,
    outcome String,
    client String,
    duration_ms Float64
) ENGINE = MergeTree PARTITION BY toYYYYMM(at) ORDER BY (principal_id, at, at_ms);
