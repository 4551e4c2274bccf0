-- The queue filtered by object (and language): without it the walk of tips_claim_next filtered
-- out 40 rows in 41 (67 ms at a million tips for object + language); with it, one range.
CREATE INDEX tips_queue_object
    ON tips (status, object_ref, object_closed, score DESC, received_at, tip_id);
