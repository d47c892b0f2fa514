-- Marks the writing transaction as one that maintains data versions and rollups itself: the
-- triggers on candles (migration 0052) skip it. Transaction-local: gone at commit or rollback.
SELECT set_config('workbench.candles_maintained', 'on', true)
