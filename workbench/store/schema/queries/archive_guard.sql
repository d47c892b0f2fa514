-- In the writer's transaction, after staging rows of :table_name into _wb_stage: if some are older
-- than the archive watermark (or than a running archive's cutoff), lower the watermark to them and
-- bump the generation, so retention cannot drop them before they are archived.
UPDATE archive_watermarks w
SET archived_until = least(w.archived_until, s.oldest), generation = w.generation + 1, updated_at = now()
FROM (SELECT min(timestamp) AS oldest FROM _wb_stage) s
WHERE w.table_name = :table_name
  AND s.oldest < greatest(w.archived_until, coalesce(w.pending_until, '-infinity'))
