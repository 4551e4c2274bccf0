-- Contact details a tipster chose to give, sealed for investigators (ingest/contact.py).
-- Ciphertext only: nothing here can read it; `tipline contact-open` does, offline.
ALTER TABLE tips ADD COLUMN sealed_contact text;
