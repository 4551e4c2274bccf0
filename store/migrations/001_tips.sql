-- Reviewer database, first version: scored tips, their clusters, consensus and throughput views.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE tips (
    tip_id              text PRIMARY KEY,
    object_ref          text,
    object_refs         text[]      NOT NULL DEFAULT '{}',
    channel             text        NOT NULL,
    received_at         timestamptz NOT NULL,
    ingested_at         timestamptz NOT NULL DEFAULT now(),
    subject             text        NOT NULL,
    body                text        NOT NULL,
    language            text        NOT NULL,
    language_confidence real        NOT NULL,
    sender_key          text,
    redactions          jsonb       NOT NULL,
    evidence            jsonb       NOT NULL,
    attachments         jsonb       NOT NULL,
    cluster_id          text,
    duplicate_of        text,
    similarity          real,
    corroboration       jsonb       NOT NULL,
    score               smallint    NOT NULL CHECK (score BETWEEN 0 AND 100),
    reasons             jsonb       NOT NULL,
    score_version       text        NOT NULL,
    status              text        NOT NULL DEFAULT 'new'
                        CHECK (status IN ('new', 'reviewing', 'lead', 'dismissed')),
    -- The whole ScoredTip as the sink received it: re-scoring and dedupe restore read this.
    record              jsonb       NOT NULL
);

-- The analyst queue: open tips, best first.
CREATE INDEX tips_queue ON tips (status, score DESC, received_at);
CREATE INDEX tips_object ON tips (object_ref, received_at);
CREATE INDEX tips_cluster ON tips (cluster_id);
CREATE INDEX tips_ingested ON tips (ingested_at);
-- Analysts search tip text by fragment ("Rossm", "Graz") in any script.
CREATE INDEX tips_body_trgm ON tips USING gin (body gin_trgm_ops);

-- One line per guess: a cluster of near-identical tips about one object.
CREATE TABLE clusters (
    cluster_id            text PRIMARY KEY,
    object_ref            text,
    representative_tip_id text        NOT NULL,
    size                  integer     NOT NULL,
    distinct_senders      integer     NOT NULL,
    max_score             smallint    NOT NULL,
    first_seen            timestamptz NOT NULL,
    last_seen             timestamptz NOT NULL
);
CREATE INDEX clusters_object ON clusters (object_ref, max_score DESC);

-- Per-object consensus: each country/city/shop/brand/product id named, by how many independent
-- tipsters (an anonymous web tip counts as its own tipster), with the best tip naming it.
CREATE VIEW object_consensus AS
SELECT t.object_ref,
       e.kind,
       e.value,
       count(DISTINCT coalesce(t.sender_key, t.tip_id)) AS tipsters,
       count(*)                                         AS tips,
       (array_agg(t.tip_id ORDER BY t.score DESC, t.received_at))[1] AS best_tip_id,
       max(t.score)                                     AS best_score
FROM tips t
CROSS JOIN LATERAL (
    SELECT 'country' AS kind, v AS value FROM jsonb_array_elements_text(t.evidence -> 'countries') v
    UNION ALL SELECT 'city', v FROM jsonb_array_elements_text(t.evidence -> 'cities') v
    UNION ALL SELECT 'shop', v FROM jsonb_array_elements_text(t.evidence -> 'shops') v
    UNION ALL SELECT 'brand', v FROM jsonb_array_elements_text(t.evidence -> 'brands') v
    UNION ALL SELECT 'product_id', v FROM jsonb_array_elements_text(t.evidence -> 'product_ids') v
) e
WHERE t.object_ref IS NOT NULL
GROUP BY t.object_ref, e.kind, e.value;

-- Ops: tips stored per minute and channel, with end-to-end delay from receipt to database.
CREATE VIEW throughput_per_minute AS
SELECT date_trunc('minute', ingested_at) AS minute,
       channel,
       count(*) AS tips,
       avg(extract(epoch FROM ingested_at - received_at))::real AS mean_delay_s
FROM tips
GROUP BY 1, 2;
