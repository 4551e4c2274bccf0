-- Two indexes on tips that no query needs any more, each maintained on every sink insert
-- (checked with EXPLAIN on benchmarks/bench_sink.py's database, 20,000 tips, after every
-- query of review/ and store/ that reads tips was listed):
--   * tips_status_received (status, received_at) served the ops page's "oldest tip waiting",
--     which now reads ingested_at (an import's received_at is historical): no query filters on
--     status and orders by received_at but the urgent list, which has tips_urgent;
--   * tips_object (object_ref, received_at): every query by object (the object's figures, the
--     lead's tips, the consensus view) is served by tips_queue_object (status, object_ref, …)
--     with PostgreSQL 18's skip scan over the four statuses (same plans, 0.2-0.3 ms), and the
--     dedupe restore walks tips_ingested.
DROP INDEX IF EXISTS tips_status_received;
DROP INDEX IF EXISTS tips_object;
