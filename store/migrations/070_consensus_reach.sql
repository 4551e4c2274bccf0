-- The consensus view also says which countries each claim points to (issue #11): the newest
-- tip's Evidence.reach entry for that kind and value, {"countries": [...], "spread": n}, or
-- null for tips stored before reach existed. Same columns as before, one more at the end.
CREATE OR REPLACE VIEW object_consensus AS
SELECT t.object_ref,
       e.kind,
       e.value,
       count(DISTINCT coalesce(t.sender_key, t.tip_id)) AS tipsters,
       count(*)                                         AS tips,
       (array_agg(t.tip_id ORDER BY t.score DESC, t.received_at))[1] AS best_tip_id,
       max(t.score)                                     AS best_score,
       (array_agg(r.reach ORDER BY t.received_at DESC) FILTER (WHERE r.reach IS NOT NULL))[1]
                                                        AS reach
FROM tips t
CROSS JOIN LATERAL (
    SELECT 'country' AS kind, v AS value FROM jsonb_array_elements_text(t.evidence -> 'countries') v
    UNION ALL SELECT 'city', v FROM jsonb_array_elements_text(t.evidence -> 'cities') v
    UNION ALL SELECT 'shop', v FROM jsonb_array_elements_text(t.evidence -> 'shops') v
    UNION ALL SELECT 'brand', v FROM jsonb_array_elements_text(t.evidence -> 'brands') v
    UNION ALL SELECT 'product_id', v FROM jsonb_array_elements_text(t.evidence -> 'product_ids') v
) e
LEFT JOIN LATERAL (
    SELECT x AS reach FROM jsonb_array_elements(t.evidence -> 'reach') x
    WHERE x ->> 'kind' = e.kind AND x ->> 'value' = e.value
    LIMIT 1
) r ON true
WHERE t.object_ref IS NOT NULL
GROUP BY t.object_ref, e.kind, e.value;
