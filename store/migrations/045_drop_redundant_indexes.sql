-- Two indexes on tips that others already cover, each maintained on every insert for nothing
-- (the sink spends most of its server time on index maintenance; measured with
-- benchmarks/bench_sink.py): tips_queue is a prefix of tips_queue_keyset, tips_cluster a prefix
-- of tips_cluster_best (and of the partial tips_cluster_members).
DROP INDEX IF EXISTS tips_queue;
DROP INDEX IF EXISTS tips_cluster;
