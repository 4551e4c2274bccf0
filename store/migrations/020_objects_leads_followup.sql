-- Objects as data, lead packages for national authorities, anonymous two-way follow-up, and the
-- link from a follow-up answer to the tip it answers. Additive only.

-- The published objects of "Trace an Object": what the public page shows and the queue orders by.
-- texts: {"en": {"title": "...", "questions": ["...", ...]}, "de": {...}}.
CREATE TABLE objects (
    object_ref         text        PRIMARY KEY,
    status             text        NOT NULL DEFAULT 'draft'
                       CHECK (status IN ('draft', 'published', 'identified', 'retired')),
    texts              jsonb       NOT NULL DEFAULT '{}',
    picture_sha256     text        CHECK (picture_sha256 ~ '^[0-9a-f]{64}$'),
    picture_media_type text,
    published_at       timestamptz,
    identified_country text        CHECK (identified_country ~ '^[A-Z]{2}$'),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX objects_status ON objects (status);

-- A lead package: chosen tips about one object, for one country's police. Frozen when built:
-- the tip ids and the analyst's notes are what the package says, whatever happens to the tips.
CREATE TABLE leads (
    lead_id     text        PRIMARY KEY,
    object_ref  text        NOT NULL,
    country     text        NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    tip_ids     text[]      NOT NULL CHECK (cardinality(tip_ids) BETWEEN 1 AND 5000),
    selection   jsonb       NOT NULL,
    notes       text        NOT NULL DEFAULT '' CHECK (char_length(notes) <= 5000),
    created_by  text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX leads_object ON leads (object_ref, created_at);

-- Append-only audit of what happened to a package: built, downloaded (which format), sent.
CREATE TABLE lead_events (
    id         bigserial   PRIMARY KEY,
    lead_id    text        NOT NULL REFERENCES leads (lead_id),
    event      text        NOT NULL CHECK (event IN ('created', 'downloaded', 'sent')),
    analyst    text        NOT NULL,
    at         timestamptz NOT NULL DEFAULT now(),
    authority  text        CHECK (char_length(authority) <= 200),
    sent_on    date,
    detail     text        CHECK (char_length(detail) <= 200)
);
CREATE INDEX lead_events_lead ON lead_events (lead_id, at);

-- Follow-up receipts: a lookup id and the argon2 hash of the secret the tipster holds. Nothing
-- about who holds it: the receipt is shown once, on the receipt page, and never stored plain.
CREATE TABLE followup_receipts (
    lookup_id   text        PRIMARY KEY CHECK (lookup_id ~ '^[a-z2-7]{10}$'),
    tip_id      text        NOT NULL UNIQUE,
    secret_hash text        NOT NULL CHECK (secret_hash LIKE '$argon2id$%'),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Questions analysts put to a tipster; the answers come back as tips (tips.follow_up_of).
CREATE TABLE followup_questions (
    id        bigserial   PRIMARY KEY,
    tip_id    text        NOT NULL REFERENCES tips (tip_id),
    question  text        NOT NULL CHECK (char_length(question) BETWEEN 1 AND 2000),
    asked_by  text        NOT NULL,
    asked_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX followup_questions_tip ON followup_questions (tip_id, asked_at);

-- A follow-up answer names the tip it answers; the console shows them together.
ALTER TABLE tips ADD COLUMN follow_up_of text;
CREATE INDEX tips_follow_up_of ON tips (follow_up_of) WHERE follow_up_of IS NOT NULL;

-- The console's urgent view (processors/urgent.py): open tips with an "urgent" reason, newest
-- first, without scanning the queue.
CREATE INDEX tips_urgent ON tips (received_at DESC, tip_id)
    WHERE reasons @> '[{"feature": "urgent"}]' AND status IN ('new', 'reviewing');
