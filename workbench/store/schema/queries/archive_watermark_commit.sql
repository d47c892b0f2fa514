-- Raise the watermark to :cutoff unless rows below it were written since the run began.
UPDATE archive_watermarks
SET archived_until = greatest(archived_until, :cutoff), pending_until = NULL, updated_at = now()
WHERE table_name = :table_name AND generation = :generation
RETURNING archived_until
