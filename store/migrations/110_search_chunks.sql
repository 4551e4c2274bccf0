-- The console's text search (review/api_queries.py: body or subject ILIKE '%fragment%') was
-- served by two trigram GIN indexes on tips, which cost the sink ≈ 250-300 µs of server CPU per
-- row with real text (benchmarks/bench_sink.py --text real: ≈ 226 distinct trigrams per tip, each
-- a GIN entry insert; a larger pending list only moved the cost, fastupdate = off was 4x worse).
--
-- The trigrams now index chunks: one row of ``tip_search`` holds the subject and body of up to
-- 256 tips inserted by one statement, concatenated and lower-cased (ILIKE is LIKE on lower() of
-- both sides, and LIKE rechecks a chunk several times faster). A trigram is stored once per chunk however
-- many of its tips contain it, so far fewer GIN entries are written per tip. Search finds the
-- chunks whose text matches the pattern (through the index and a recheck of the chunk), then
-- keeps the chunks' tips whose own body or subject matches: the result is exactly that of the
-- ILIKE on tips (a chunk holds each of its tips' texts verbatim, so a tip that matches is in a
-- matching chunk; a match across two tips' texts is dropped by the per-tip filter).
--
-- The chunks are kept by triggers in the writer's own transaction, whoever writes: a tip is
-- searchable when its row is committed, not later. A tip's text never outlives the tip: an
-- update of body or subject, or a delete, rebuilds the chunks that held it from the rows as
-- they are now.
CREATE TABLE tip_search (
    chunk_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tip_ids  text[] NOT NULL,
    doc      text   NOT NULL
);
CREATE INDEX tip_search_doc ON tip_search USING gin (doc gin_trgm_ops);

-- Up to 256 tips per chunk: larger chunks write fewer entries per tip (bench_sink.py --text real,
-- server CPU per row: no index 148 µs, chunks of 16 / 64 / 256: 282 / 251 / 180 µs, one trigram
-- index per tip 453 µs); a search over 100k tips took about as long with 64 as with 256.
CREATE FUNCTION tip_search_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tip_search (tip_ids, doc)
    SELECT array_agg(tip_id), lower(string_agg(subject || E'\n' || body, E'\n'))
    FROM (SELECT tip_id, subject, body, (row_number() OVER () - 1) / 256 AS chunk
          FROM new_rows) n
    GROUP BY chunk;
    RETURN NULL;
END $$;
CREATE TRIGGER tips_search_insert AFTER INSERT ON tips
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tip_search_insert();

-- The chunks holding any of ``ids`` are replaced by chunks of their tips still stored, with
-- their current text. Finding them reads every chunk's tip list (no index: updates of a tip's
-- text and deletes are rare, and an index on tip_ids would cost every insert).
CREATE FUNCTION tip_search_rebuild(ids text[]) RETURNS void LANGUAGE sql AS $$
    WITH gone AS (
        DELETE FROM tip_search WHERE tip_ids && ids RETURNING tip_ids
    )
    INSERT INTO tip_search (tip_ids, doc)
    SELECT array_agg(tip_id), lower(string_agg(subject || E'\n' || body, E'\n'))
    FROM (SELECT t.tip_id, t.subject, t.body, (row_number() OVER () - 1) / 256 AS chunk
          FROM (SELECT unnest(tip_ids) AS tip_id FROM gone UNION SELECT unnest(ids)) k
          JOIN tips t USING (tip_id)) n
    GROUP BY chunk
$$;

CREATE FUNCTION tip_search_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM tip_search_rebuild((SELECT array_agg(tip_id) FROM old_rows));
    ELSE
        PERFORM tip_search_rebuild(ARRAY[NEW.tip_id]);
    END IF;
    RETURN NULL;
END $$;
-- Row-level for updates (a trigger with a column list cannot have transition tables): it fires
-- only for statements that set body or subject, never for the sink's or the analysts' updates.
CREATE TRIGGER tips_search_update AFTER UPDATE OF body, subject ON tips
    FOR EACH ROW WHEN (OLD.body IS DISTINCT FROM NEW.body OR OLD.subject IS DISTINCT FROM NEW.subject)
    EXECUTE FUNCTION tip_search_changed();
CREATE TRIGGER tips_search_delete AFTER DELETE ON tips
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION tip_search_changed();

INSERT INTO tip_search (tip_ids, doc)
SELECT array_agg(tip_id), lower(string_agg(subject || E'\n' || body, E'\n'))
FROM (SELECT tip_id, subject, body, (row_number() OVER (ORDER BY tip_id) - 1) / 256 AS chunk
      FROM tips) t
GROUP BY chunk;

DROP INDEX tips_body_trgm;
DROP INDEX tips_subject_trgm;
