-- The analysts' console: accounts with roles, server-side sessions, an audit of every read of a
-- tip and every decision, claims (leases on a cluster), verdicts with a reason, and moves of
-- tips between clusters (merge/split). Additive only.

CREATE TABLE analysts (
    name          text        PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    role          text        NOT NULL CHECK (role IN ('analyst', 'supervisor', 'ops')),
    -- argon2id, PHC string: the password itself is never stored.
    password_hash text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    disabled_at   timestamptz
);

-- The cookie holds a random session id; only its sha256 is stored, so a copy of this table
-- cannot be replayed as a cookie. Revoking is setting revoked_at (logout, disable, revoke).
CREATE TABLE review_sessions (
    id_hash    bytea       PRIMARY KEY,
    analyst    text        NOT NULL,
    role       text        NOT NULL CHECK (role IN ('analyst', 'supervisor', 'ops')),
    via        text        NOT NULL CHECK (via IN ('password', 'token')),
    csrf       text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX review_sessions_analyst ON review_sessions (analyst) WHERE revoked_at IS NULL;

-- Append-only: who read which tip, and who decided what. Never tip text.
CREATE TABLE audit_events (
    id         bigserial   PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    analyst    text        NOT NULL,
    action     text        NOT NULL,
    tip_id     text,
    cluster_id text,
    detail     jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_tip ON audit_events (tip_id, at) WHERE tip_id IS NOT NULL;
CREATE INDEX audit_events_at ON audit_events (at);

-- One analyst works one unit (a cluster, or 'tip:<id>' for a tip alone) until the lease ends.
CREATE TABLE claims (
    unit       text        PRIMARY KEY,
    analyst    text        NOT NULL,
    tip_id     text        NOT NULL,
    claimed_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX claims_analyst ON claims (analyst);

CREATE TABLE verdicts (
    id       bigserial   PRIMARY KEY,
    unit     text        NOT NULL,
    tip_id   text        NOT NULL REFERENCES tips (tip_id),
    analyst  text        NOT NULL,
    reason   text        NOT NULL
             CHECK (reason IN ('lead', 'not_relevant', 'duplicate', 'needs_follow_up', 'urgent')),
    note     text        CHECK (char_length(note) <= 2000),
    tips     integer     NOT NULL,
    given_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX verdicts_tip ON verdicts (tip_id);

-- Claim-next walks the open queue best first and skips claimed units: one ordered index scan.
CREATE INDEX tips_claim_next ON tips (score DESC, received_at, tip_id) WHERE status = 'new';
-- Search matches the subject too (e-mail tips often name the shop there).
CREATE INDEX tips_subject_trgm ON tips USING gin (subject gin_trgm_ops);
