-- Raw event tables, one per topic. Every row keeps its source position
-- (_source = the broker's cluster id, _topic, _partition, _offset): the sink
-- resumes from the highest offset already stored per table and partition of
-- that broker, which makes redelivery harmless; a broker that was reset
-- (the embedded one is in memory) has a new cluster id and starts afresh.
-- Ordered by (account_id, time) first: every report filters by account and
-- date range.

CREATE TABLE IF NOT EXISTS ticket_events {on_cluster}
(
    account_id       LowCardinality(String),
    event_id         String,
    type             LowCardinality(String),
    occurred_at      DateTime64(3, 'UTC'),
    ticket_id        String,
    changed          Array(LowCardinality(String)),
    status           LowCardinality(String),
    pipeline         LowCardinality(String),
    owner_id         LowCardinality(String),
    team_id          LowCardinality(String),
    priority         LowCardinality(String),
    category         LowCardinality(String),
    subject          String,
    channel          LowCardinality(String),
    contact_id       String,
    merged_ticket_id String,
    schema_version   UInt16,
    _source           LowCardinality(String),
    _topic           LowCardinality(String),
    _partition       UInt32,
    _offset          UInt64,
    _ingested_at     DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = {replicated}MergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (account_id, type, occurred_at, ticket_id);

CREATE TABLE IF NOT EXISTS message_events {on_cluster}
(
    account_id     LowCardinality(String),
    event_id       String,
    occurred_at    DateTime64(3, 'UTC'),
    ticket_id      String,
    message_id     String,
    direction      LowCardinality(String),
    sender_type    LowCardinality(String),
    sender_id      LowCardinality(String),
    channel        LowCardinality(String),
    schema_version UInt16,
    _source         LowCardinality(String),
    _topic         LowCardinality(String),
    _partition     UInt32,
    _offset        UInt64,
    _ingested_at   DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = {replicated}MergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (account_id, occurred_at, ticket_id);

CREATE TABLE IF NOT EXISTS feedback_events {on_cluster}
(
    account_id     LowCardinality(String),
    event_id       String,
    occurred_at    DateTime64(3, 'UTC'),
    ticket_id      String,
    survey         LowCardinality(String),
    score          UInt8,
    scale          UInt8,
    contact_id     String,
    schema_version UInt16,
    _source         LowCardinality(String),
    _topic         LowCardinality(String),
    _partition     UInt32,
    _offset        UInt64,
    _ingested_at   DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = {replicated}MergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (account_id, survey, occurred_at);

CREATE TABLE IF NOT EXISTS availability_events {on_cluster}
(
    account_id     LowCardinality(String),
    event_id       String,
    occurred_at    DateTime64(3, 'UTC'),
    rep_id         LowCardinality(String),
    team_id        LowCardinality(String),
    status         LowCardinality(String),
    schema_version UInt16,
    _source         LowCardinality(String),
    _topic         LowCardinality(String),
    _partition     UInt32,
    _offset        UInt64,
    _ingested_at   DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = {replicated}MergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (account_id, rep_id, occurred_at);

CREATE TABLE IF NOT EXISTS call_events {on_cluster}
(
    account_id     LowCardinality(String),
    event_id       String,
    occurred_at    DateTime64(3, 'UTC'),
    call_id        String,
    rep_id         LowCardinality(String),
    team_id        LowCardinality(String),
    ticket_id      String,
    outcome        LowCardinality(String),
    started_at     DateTime64(3, 'UTC'),
    duration_s     Float64,
    schema_version UInt16,
    _source         LowCardinality(String),
    _topic         LowCardinality(String),
    _partition     UInt32,
    _offset        UInt64,
    _ingested_at   DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = {replicated}MergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (account_id, occurred_at);

CREATE TABLE IF NOT EXISTS agent_events {on_cluster}
(
    account_id      LowCardinality(String),
    event_id        String,
    type            LowCardinality(String),
    occurred_at     DateTime64(3, 'UTC'),
    conversation_id String,
    channel         LowCardinality(String),
    contact_id      String,
    question        String,
    ticket_id       String,
    to_rep_id       LowCardinality(String),
    to_team_id      LowCardinality(String),
    helpful         Nullable(Bool),
    schema_version  UInt16,
    _source          LowCardinality(String),
    _topic          LowCardinality(String),
    _partition      UInt32,
    _offset         UInt64,
    _ingested_at    DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = {replicated}MergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (account_id, type, occurred_at);

CREATE TABLE IF NOT EXISTS config_events {on_cluster}
(
    account_id     LowCardinality(String),
    event_id       String,
    occurred_at    DateTime64(3, 'UTC'),
    config         String,
    schema_version UInt16,
    _source         LowCardinality(String),
    _topic         LowCardinality(String),
    _partition     UInt32,
    _offset        UInt64,
    _ingested_at   DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = {replicated}MergeTree
ORDER BY (account_id, occurred_at);

-- Everything that could not be ingested, with why, where from, and the
-- original bytes (the dead-letter topic has the same records).
CREATE TABLE IF NOT EXISTS dead_letters {on_cluster}
(
    received_at  DateTime64(3, 'UTC'),
    reason_code  LowCardinality(String),
    reason       String,
    key          String,
    raw          String,
    _source       LowCardinality(String),
    _topic       LowCardinality(String),
    _partition   UInt32,
    _offset      UInt64
)
ENGINE = {replicated}MergeTree
PARTITION BY toYYYYMM(received_at)
ORDER BY (_topic, received_at);
