-- Announce an archive run up to :cutoff: from now on writes of older rows bump the generation.
INSERT INTO archive_watermarks (table_name, archived_until, pending_until)
VALUES (:table_name, '-infinity', :cutoff)
ON CONFLICT (table_name) DO UPDATE SET pending_until = greatest(archive_watermarks.pending_until, :cutoff)
RETURNING generation
