-- One ticket's stored events by its id. A worker evicts closed tickets from
-- memory and reads one back when a late event for it arrives; a merge reads
-- the merged ticket's messages. The raw tables are ordered by time, so
-- without these a point query read the account's whole history.
ALTER TABLE message_events {on_cluster} ADD INDEX IF NOT EXISTS ticket_idx ticket_id TYPE bloom_filter GRANULARITY 4;
ALTER TABLE ticket_events {on_cluster} ADD INDEX IF NOT EXISTS ticket_idx ticket_id TYPE bloom_filter GRANULARITY 4;
-- Parts written before this migration get the index too (a background mutation on a server).
ALTER TABLE message_events {on_cluster} MATERIALIZE INDEX ticket_idx;
ALTER TABLE ticket_events {on_cluster} MATERIALIZE INDEX ticket_idx;
