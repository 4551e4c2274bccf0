-- Analyst review: who last moved a tip, an append-only audit of every status change, and the
-- indexes the review app's queries need. Additive only: 001 stays as it is.

ALTER TABLE tips
    ADD COLUMN reviewed_at timestamptz,
    ADD COLUMN reviewed_by text;

-- Append-only: the app inserts, never updates or deletes. One row per tip changed, so a
-- cluster-wide change is as many rows sharing one change_id.
CREATE TABLE status_changes (
    id           bigserial   PRIMARY KEY,
    change_id    uuid        NOT NULL,
    tip_id       text        NOT NULL REFERENCES tips (tip_id),
    from_status  text        NOT NULL,
    to_status    text        NOT NULL
                 CHECK (to_status IN ('new', 'reviewing', 'lead', 'dismissed')),
    analyst      text        NOT NULL,
    changed_at   timestamptz NOT NULL DEFAULT now(),
    cluster_wide boolean     NOT NULL DEFAULT false,
    note         text        CHECK (char_length(note) <= 2000)
);
CREATE INDEX status_changes_tip ON status_changes (tip_id, changed_at);

-- The queue shows the best open tip of each cluster: "is there a better tip in my cluster with
-- the same status?" is one probe of this index per candidate row.
CREATE INDEX tips_cluster_best ON tips (cluster_id, status, score DESC, received_at, tip_id)
    WHERE cluster_id IS NOT NULL;
-- Keyset pagination walks the queue in exactly this order.
CREATE INDEX tips_queue_keyset ON tips (status, score DESC, received_at, tip_id);
-- Ops: the age of the oldest tip still waiting is one index probe.
CREATE INDEX tips_status_received ON tips (status, received_at);
-- /media/{sha256} serves a file only if some tip names it: a containment probe, not a scan.
CREATE INDEX tips_attachments ON tips USING gin (attachments jsonb_path_ops);
