-- Tips about an identified or retired object sink to the bottom of the queue instead of
-- vanishing (issue #8): the queue and claim-next order by (object_closed, score DESC,
-- received_at, tip_id). The flag is kept on the tip, not joined per row, so that order is one
-- index walk at a million tips; two triggers keep it true to objects.status whoever writes:
-- a new tip takes its object's state, and an object's status change updates its tips.
ALTER TABLE tips ADD COLUMN object_closed boolean NOT NULL DEFAULT false;

CREATE FUNCTION tips_object_closed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.object_closed := NEW.object_ref IS NOT NULL AND EXISTS (
        SELECT 1 FROM objects o
        WHERE o.object_ref = NEW.object_ref AND o.status IN ('identified', 'retired'));
    RETURN NEW;
END $$;
CREATE TRIGGER tips_object_closed BEFORE INSERT OR UPDATE OF object_ref ON tips
    FOR EACH ROW EXECUTE FUNCTION tips_object_closed();

CREATE FUNCTION objects_close_tips() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    closed boolean := NEW.status IN ('identified', 'retired');
BEGIN
    UPDATE tips SET object_closed = closed
    WHERE object_ref = NEW.object_ref AND object_closed IS DISTINCT FROM closed;
    RETURN NULL;
END $$;
CREATE TRIGGER objects_close_tips AFTER INSERT OR UPDATE OF status ON objects
    FOR EACH ROW EXECUTE FUNCTION objects_close_tips();

UPDATE tips t SET object_closed = true
FROM objects o
WHERE o.object_ref = t.object_ref AND o.status IN ('identified', 'retired');

-- The queue's keyset walk and claim-next, in the new order (they replace the old ones).
DROP INDEX tips_queue_keyset;
CREATE INDEX tips_queue_keyset ON tips (status, object_closed, score DESC, received_at, tip_id);
DROP INDEX tips_claim_next;
CREATE INDEX tips_claim_next ON tips (object_closed, score DESC, received_at, tip_id)
    WHERE status = 'new';
DROP INDEX tips_with_photo;
CREATE INDEX tips_with_photo ON tips (status, object_closed, score DESC, received_at, tip_id)
    WHERE attachments <> '[]'::jsonb;
