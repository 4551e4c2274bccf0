-- What the console's /ops page shows beside throughput: the workers' consumer lag over time
-- and the dead letters' safe metadata. The worker records both (tipline/ops_recorder.py); the
-- dead-letter payload stays on the dead-letter topic and is never copied here.
CREATE TABLE ops_lag (
    sampled_at timestamptz NOT NULL,  -- the start of a 15-second slot: every worker writes it
    topic text NOT NULL,
    lag bigint NOT NULL CHECK (lag >= 0),
    PRIMARY KEY (sampled_at, topic)
);

CREATE TABLE dead_letter_log (
    -- Where the record failed (source topic, partition, offset) and when: the same dead
    -- letter re-sent after an embedded broker's restart gets a new id on the dead-letter
    -- topic, but keeps this key.
    letter_key text PRIMARY KEY,
    dead_id text NOT NULL,  -- <partition>-<offset> on the dead-letter topic, for `tipline dead`
    stage text NOT NULL,
    error text NOT NULL,
    reason text NOT NULL,
    tip_id text,
    source_topic text NOT NULL,
    failed_at timestamptz NOT NULL
);
CREATE INDEX dead_letter_log_failed_at ON dead_letter_log (failed_at DESC);
