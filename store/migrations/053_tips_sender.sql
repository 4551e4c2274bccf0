-- Sender activity is restored per partition from the stored tips (store/history.py): one
-- sender's tips within the window, newest first, as an index probe.
CREATE INDEX tips_sender ON tips (sender_key, received_at DESC) WHERE sender_key IS NOT NULL;
