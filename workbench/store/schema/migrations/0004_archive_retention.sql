-- 0004: retention never deletes history that is not archived.
-- archive_watermarks: per table, every row with timestamp < archived_until is in the Parquet archive
-- (`workbench archive` raises it after archiving; a write of older rows lowers it again, in the
-- writer's transaction). Retention only ever removes rows older than both the 30-day horizon and
-- the watermark: a table with no watermark keeps everything.
CREATE TABLE IF NOT EXISTS archive_watermarks (
    table_name TEXT PRIMARY KEY,
    archived_until TIMESTAMP WITH TIME ZONE NOT NULL,
    pending_until TIMESTAMP WITH TIME ZONE,       -- cutoff of an archive run in progress
    generation BIGINT NOT NULL DEFAULT 0,         -- bumped by every write of rows below either
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now()
);

-- TimescaleDB: the stock 30-day retention policies of 0002 drop chunks whether archived or not;
-- replace them by one job that drops only chunks older than min(now() - keep, archived_until).
DO $$
DECLARE
    t TEXT;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
        RETURN;
    END IF;
    FOREACH t IN ARRAY ARRAY['tickers', 'orderbooks', 'transactions', 'candles', 'technical_indicators'] LOOP
        PERFORM remove_retention_policy(t::regclass, if_exists => TRUE);
    END LOOP;
    EXECUTE $proc$
        CREATE OR REPLACE PROCEDURE workbench_archived_retention(job_id INT, config JSONB)
        LANGUAGE plpgsql AS $body$
        DECLARE
            w RECORD;
            horizon TIMESTAMPTZ;
        BEGIN
            FOR w IN SELECT table_name, archived_until FROM archive_watermarks
                     WHERE table_name IN ('tickers', 'orderbooks', 'transactions', 'candles',
                                          'technical_indicators') LOOP
                horizon := least(now() - (config ->> 'keep')::interval, w.archived_until);
                PERFORM drop_chunks(w.table_name::regclass, older_than => horizon);
            END LOOP;
        END
        $body$
    $proc$;
    IF NOT EXISTS (SELECT 1 FROM timescaledb_information.jobs WHERE proc_name = 'workbench_archived_retention') THEN
        PERFORM add_job('workbench_archived_retention', INTERVAL '1 day', config => '{"keep": "30 days"}');
    END IF;
END $$;
