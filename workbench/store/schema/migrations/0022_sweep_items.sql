-- 0022: one row per finished combination of a resumable sweep (or search). The primary key
-- (sweep_id, combo_key) is what makes a sweep resumable without storing anything twice: a combination
-- is written together with its backtest_results row in one transaction, and a second writer of the
-- same combination fails on this key and rolls its backtest row back.

CREATE TABLE IF NOT EXISTS sweep_items (
    sweep_id UUID NOT NULL,
    combo_key TEXT NOT NULL,                 -- canonical JSON of the parameters (and symbol, if per symbol)
    params JSONB NOT NULL,
    metrics JSONB NOT NULL,                  -- every metric; non-finite values as "NaN"/"Infinity"
    daily_returns JSONB NOT NULL,            -- {"YYYY-MM-DD": return}, for DSR/PBO on resume
    data_fingerprint VARCHAR(64) NOT NULL,
    backtest_result_id INTEGER REFERENCES backtest_results(id) ON DELETE CASCADE,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    PRIMARY KEY (sweep_id, combo_key)
);
