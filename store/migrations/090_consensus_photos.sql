-- The consensus view also lists groups of near-identical photos (issue #11): a tip's
-- Corroboration of kind "photo" names its group by the first copy's perceptual hash, and the
-- group is a claim like a shop or a town, counted by independent tipsters. The new last column,
-- picture, is the sha256 of one stored photo of the group (the best tip's photo nearest the
-- group's hash), so the page can show it; null for every other kind. The object's own picture
-- re-shared never has a photo corroboration, so it is not listed (see processors/dedupe.py).
CREATE OR REPLACE VIEW object_consensus AS
SELECT t.object_ref,
       e.kind,
       e.value,
       count(DISTINCT coalesce(t.sender_key, t.tip_id)) AS tipsters,
       count(*)                                         AS tips,
       (array_agg(t.tip_id ORDER BY t.score DESC, t.received_at))[1] AS best_tip_id,
       max(t.score)                                     AS best_score,
       (array_agg(r.reach ORDER BY t.received_at DESC) FILTER (WHERE r.reach IS NOT NULL))[1]
                                                        AS reach,
       (array_agg(p.sha256 ORDER BY t.score DESC, t.received_at)
            FILTER (WHERE p.sha256 IS NOT NULL))[1]     AS picture
FROM tips t
CROSS JOIN LATERAL (
    SELECT 'country' AS kind, v AS value FROM jsonb_array_elements_text(t.evidence -> 'countries') v
    UNION ALL SELECT 'city', v FROM jsonb_array_elements_text(t.evidence -> 'cities') v
    UNION ALL SELECT 'shop', v FROM jsonb_array_elements_text(t.evidence -> 'shops') v
    UNION ALL SELECT 'brand', v FROM jsonb_array_elements_text(t.evidence -> 'brands') v
    UNION ALL SELECT 'product_id', v FROM jsonb_array_elements_text(t.evidence -> 'product_ids') v
    UNION ALL SELECT 'photo', c ->> 'value' FROM jsonb_array_elements(t.corroboration) c
    WHERE c ->> 'kind' = 'photo'
) e
LEFT JOIN LATERAL (
    SELECT x AS reach FROM jsonb_array_elements(t.evidence -> 'reach') x
    WHERE x ->> 'kind' = e.kind AND x ->> 'value' = e.value
    LIMIT 1
) r ON true
LEFT JOIN LATERAL (
    -- Hashes are 16 hex digits: as bit(64), XOR and bit_count give the Hamming distance.
    SELECT x ->> 'sha256' AS sha256 FROM jsonb_array_elements(t.attachments) x
    WHERE e.kind = 'photo' AND x ->> 'phash' IS NOT NULL
    ORDER BY bit_count(('x' || (x ->> 'phash'))::bit(64) # ('x' || e.value)::bit(64))
    LIMIT 1
) p ON true
WHERE t.object_ref IS NOT NULL
GROUP BY t.object_ref, e.kind, e.value;
