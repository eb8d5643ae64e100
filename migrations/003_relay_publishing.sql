-- Set while the relay has a batch out without all its PubAcks: after a crash
-- the stream's last message then proves nothing (an earlier message of the
-- batch may be missing), so the relay resumes from its checkpoint instead.
ALTER TABLE relay_checkpoints ADD COLUMN publishing boolean NOT NULL DEFAULT false;
