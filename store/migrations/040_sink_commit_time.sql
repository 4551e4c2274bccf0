-- The sink's commit time per row: ingested_at is now(), the *start* of the sink's transaction,
-- which hides how long the batch took; clock_timestamp() is taken as each row is inserted, so
-- received_at → stored_at is the end-to-end delay (the pipeline benchmark reads it).
ALTER TABLE tips ADD COLUMN stored_at timestamptz;
ALTER TABLE tips ALTER COLUMN stored_at SET DEFAULT clock_timestamp();

-- Cluster figures are recomputed from the rows of their tips in the sink's transaction (a
-- replayed or reordered tip can no longer inflate them); this index makes that a probe.
CREATE INDEX tips_cluster_members ON tips (cluster_id, received_at, tip_id)
    WHERE cluster_id IS NOT NULL;

-- Rebuild clusters once from the rows, so figures inflated by earlier crashes are corrected
-- and clusters without any tip disappear.
DELETE FROM clusters c WHERE NOT EXISTS (SELECT 1 FROM tips t WHERE t.cluster_id = c.cluster_id);
UPDATE clusters c SET
    size = m.size,
    distinct_senders = m.senders,
    max_score = m.max_score,
    first_seen = m.first_seen,
    last_seen = m.last_seen
FROM (
    SELECT cluster_id,
           count(*) AS size,
           count(DISTINCT coalesce(sender_key, tip_id)) AS senders,
           max(score) AS max_score,
           min(received_at) AS first_seen,
           max(received_at) AS last_seen
    FROM tips WHERE cluster_id IS NOT NULL GROUP BY cluster_id
) m
WHERE m.cluster_id = c.cluster_id;
