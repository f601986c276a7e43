-- A worker reads each partition's highest stored offset per table when it is
-- assigned partitions (Warehouse.watermarks). The raw tables are ordered by
-- account and time, so that read went through every row's offset: 140-170 ms
-- for 10.5 million messages, growing with the history. This projection keeps
-- the maximum per (broker, topic, partition) of every part, which ClickHouse
-- uses for that query by itself: a few rows per part, however long the part.
-- Parts written before this migration get it too (MATERIALIZE: a background mutation on a server; until a
-- part has it, the query reads that part's offsets as before).
ALTER TABLE ticket_events {on_cluster}
    ADD PROJECTION IF NOT EXISTS stored_offsets (SELECT _source, _topic, _partition, max(_offset) GROUP BY _source, _topic, _partition),
    MATERIALIZE PROJECTION stored_offsets;
ALTER TABLE message_events {on_cluster}
    ADD PROJECTION IF NOT EXISTS stored_offsets (SELECT _source, _topic, _partition, max(_offset) GROUP BY _source, _topic, _partition),
    MATERIALIZE PROJECTION stored_offsets;
ALTER TABLE feedback_events {on_cluster}
    ADD PROJECTION IF NOT EXISTS stored_offsets (SELECT _source, _topic, _partition, max(_offset) GROUP BY _source, _topic, _partition),
    MATERIALIZE PROJECTION stored_offsets;
ALTER TABLE availability_events {on_cluster}
    ADD PROJECTION IF NOT EXISTS stored_offsets (SELECT _source, _topic, _partition, max(_offset) GROUP BY _source, _topic, _partition),
    MATERIALIZE PROJECTION stored_offsets;
ALTER TABLE call_events {on_cluster}
    ADD PROJECTION IF NOT EXISTS stored_offsets (SELECT _source, _topic, _partition, max(_offset) GROUP BY _source, _topic, _partition),
    MATERIALIZE PROJECTION stored_offsets;
ALTER TABLE agent_events {on_cluster}
    ADD PROJECTION IF NOT EXISTS stored_offsets (SELECT _source, _topic, _partition, max(_offset) GROUP BY _source, _topic, _partition),
    MATERIALIZE PROJECTION stored_offsets;
ALTER TABLE config_events {on_cluster}
    ADD PROJECTION IF NOT EXISTS stored_offsets (SELECT _source, _topic, _partition, max(_offset) GROUP BY _source, _topic, _partition),
    MATERIALIZE PROJECTION stored_offsets;
ALTER TABLE dead_letters {on_cluster}
    ADD PROJECTION IF NOT EXISTS stored_offsets (SELECT _source, _topic, _partition, max(_offset) GROUP BY _source, _topic, _partition),
    MATERIALIZE PROJECTION stored_offsets;
