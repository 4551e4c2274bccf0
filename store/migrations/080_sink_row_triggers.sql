-- The sink spent ≈ 45 µs of server CPU per row in two per-row triggers on insert (measured with
-- benchmarks/bench_sink.py, batches of 500): the claim key (migration 063) and the object's
-- closed flag (migration 060). Both stay true to the rows whoever writes; neither runs PL/pgSQL
-- per inserted row any more.

-- The claim key is a stored generated column: the same value, computed by the executor as the
-- row is formed (no trigger call), always in step with object_ref and evidence. A tip naming
-- no shop and no city has no key: that test is inlined, since calling the SQL function (not
-- inlinable: it has sub-selects) cost ≈ 24 µs per row even when it returns NULL at once.
DROP TRIGGER tips_claim_key ON tips;
DROP FUNCTION tips_claim_key();
ALTER TABLE tips DROP COLUMN claim_key;  -- drops tips_claim_best with it
ALTER TABLE tips ADD COLUMN claim_key text
    GENERATED ALWAYS AS (
        CASE WHEN coalesce(evidence -> 'shops', '[]') = '[]'::jsonb
              AND coalesce(evidence -> 'cities', '[]') = '[]'::jsonb THEN NULL
             ELSE tip_claim_key(object_ref, evidence) END) STORED;
CREATE INDEX tips_claim_best ON tips (status, claim_key, score DESC, received_at, tip_id)
    WHERE claim_key IS NOT NULL;

-- The closed flag of new rows is set once per statement from its new rows, and only on the
-- rows whose object is identified or retired (few: a new tip about a closed object is rare),
-- instead of one objects lookup per row. An update of object_ref keeps the per-row trigger.
DROP TRIGGER tips_object_closed ON tips;
CREATE TRIGGER tips_object_closed BEFORE UPDATE OF object_ref ON tips
    FOR EACH ROW EXECUTE FUNCTION tips_object_closed();

CREATE FUNCTION tips_object_closed_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Checked first, so that a batch of open objects' tips runs no UPDATE (and no update
    -- trigger) at all.
    IF EXISTS (
        SELECT 1 FROM new_rows n
        LEFT JOIN objects o
               ON o.object_ref = n.object_ref AND o.status IN ('identified', 'retired')
        WHERE (o.object_ref IS NOT NULL) <> n.object_closed
    ) THEN
        UPDATE tips t SET object_closed = c.closed
        FROM (
            SELECT n.tip_id, o.object_ref IS NOT NULL AS closed, n.object_closed
            FROM new_rows n
            LEFT JOIN objects o
                   ON o.object_ref = n.object_ref AND o.status IN ('identified', 'retired')
        ) c
        WHERE t.tip_id = c.tip_id AND c.closed <> c.object_closed;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER tips_object_closed_insert AFTER INSERT ON tips
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION tips_object_closed_insert();
