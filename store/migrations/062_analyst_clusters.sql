-- An analyst's merge or split wins over the machine's later clustering (issue #8). The dedupe
-- stage keeps its own cluster ids (restored from the tips' records), so the sink translates:
--   * a merge records "machine cluster -> the cluster it was merged into"; a new tip the
--     machine puts in the merged-away cluster joins the analyst's one, and the merged-away
--     cluster is never re-created;
--   * a tip an analyst moved (merge or split) is marked; a new tip that duplicates it joins
--     the cluster it is in now, not the one the machine remembers.
CREATE TABLE cluster_redirects (
    from_cluster_id text        PRIMARY KEY,
    cluster_id      text        NOT NULL,
    analyst         text        NOT NULL,
    at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cluster_redirects_to ON cluster_redirects (cluster_id);
ALTER TABLE tips ADD COLUMN cluster_by_analyst boolean NOT NULL DEFAULT false;
