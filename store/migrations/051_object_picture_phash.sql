-- The perceptual hash of each object's published picture (ingest/photos.py photo_hash), so the
-- processors can mark a tip photo that is only that picture re-shared. NULL for pictures stored
-- before photos were hashed: `tipline objects add --picture` again fills it.
ALTER TABLE objects ADD COLUMN picture_phash text CHECK (picture_phash ~ '^[0-9a-f]{16}$');
