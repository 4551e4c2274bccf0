-- Two indexes on tips that others already serve, each maintained on every sink insert: with
-- them gone the planner walks the same ranges in the same order (checked with EXPLAIN on
-- benchmarks/bench_review.py's database, 300k tips):
--   * tips_claim_next (object_closed, score DESC, received_at, tip_id) WHERE status = 'new' is
--     tips_queue_keyset (status, object_closed, score DESC, received_at, tip_id) with
--     status = 'new' as its first equality: claim-next and the first queue page walk that;
--   * tips_cluster_members (cluster_id, received_at, tip_id) WHERE cluster_id IS NOT NULL has
--     tips_cluster_best's (same predicate) leading column: the sink's cluster recompute, the
--     re-score's cluster lookups and the queue's "better tip in my cluster" probe use that.
DROP INDEX IF EXISTS tips_claim_next;
DROP INDEX IF EXISTS tips_cluster_members;
