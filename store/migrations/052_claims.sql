-- Claims: one piece of evidence (kind, value) about one object, and the independent tipsters
-- behind it, kept up to date by the sink so that earlier tips are re-scored when corroboration
-- grows (store/rescore.py). Tips without an object share the object_ref ''.
--
-- A claim is also a group of near-identical photos (kind photo, value: the group's first hash).
-- claim_members  which tips name the claim (to find the tips to re-score)
-- claim_tipsters which tipsters name it: the sender key, or 'tip:<id>' for a tip without one;
--                a new row here is a new independent tipster, so a replayed batch adds nothing
-- claim_counts   how many tipsters (the row count of claim_tipsters, kept incrementally so a
--                claim with 100k tips is not counted again for every batch)
CREATE TABLE claim_members (
    object_ref text NOT NULL,
    kind       text NOT NULL,
    value      text NOT NULL,
    tip_id     text NOT NULL,
    PRIMARY KEY (object_ref, kind, value, tip_id)
);
CREATE INDEX claim_members_tip ON claim_members (tip_id);

CREATE TABLE claim_tipsters (
    object_ref text NOT NULL,
    kind       text NOT NULL,
    value      text NOT NULL,
    tipster    text NOT NULL,
    PRIMARY KEY (object_ref, kind, value, tipster)
);

CREATE TABLE claim_counts (
    object_ref text    NOT NULL,
    kind       text    NOT NULL,
    value      text    NOT NULL,
    tipsters   integer NOT NULL CHECK (tipsters >= 1),
    PRIMARY KEY (object_ref, kind, value)
);

-- The tips already stored: their claims now, their scores when a claim of theirs next changes.
INSERT INTO claim_members (object_ref, kind, value, tip_id)
SELECT DISTINCT coalesce(t.object_ref, ''), e.kind, e.value, t.tip_id
FROM tips t
CROSS JOIN LATERAL (
    SELECT 'country' AS kind, v AS value FROM jsonb_array_elements_text(t.evidence -> 'countries') v
    UNION ALL SELECT 'city', v FROM jsonb_array_elements_text(t.evidence -> 'cities') v
    UNION ALL SELECT 'shop', v FROM jsonb_array_elements_text(t.evidence -> 'shops') v
    UNION ALL SELECT 'brand', v FROM jsonb_array_elements_text(t.evidence -> 'brands') v
    UNION ALL SELECT 'product_id', v FROM jsonb_array_elements_text(t.evidence -> 'product_ids') v
    UNION ALL SELECT 'photo', c ->> 'value' FROM jsonb_array_elements(t.corroboration) c
    WHERE c ->> 'kind' = 'photo'
) e;

INSERT INTO claim_tipsters (object_ref, kind, value, tipster)
SELECT DISTINCT m.object_ref, m.kind, m.value, coalesce(t.sender_key, 'tip:' || t.tip_id)
FROM claim_members m JOIN tips t USING (tip_id);

INSERT INTO claim_counts (object_ref, kind, value, tipsters)
SELECT object_ref, kind, value, count(*) FROM claim_tipsters GROUP BY 1, 2, 3;
