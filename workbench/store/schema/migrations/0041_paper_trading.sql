-- 0041: paper trading. A paper run (replay of stored candles or live polling of Bithumb) writes the
-- schema's execution tables; these columns tie the rows to their run and keep what reconciliation needs.
-- Additions to shared/schema.md: paper_runs, paper_equity, the paper_run_id/bar_time/position columns
-- below, and TEXT for the (Fernet-encrypted) Bithumb API keys of users.

CREATE TABLE IF NOT EXISTS paper_runs (
    id SERIAL PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    strategy_id INTEGER NOT NULL REFERENCES strategies(id) ON DELETE CASCADE,
    portfolio_id INTEGER REFERENCES portfolios(id) ON DELETE SET NULL,
    mode VARCHAR(10) NOT NULL CHECK (mode IN ('replay', 'live')),
    symbols TEXT[] NOT NULL,
    timeframe VARCHAR(10) NOT NULL,
    start_time TIMESTAMP WITH TIME ZONE NOT NULL,   -- first bar the strategy sees (warm-up from here)
    trade_start TIMESTAMP WITH TIME ZONE NOT NULL,  -- no entries before this bar
    end_time TIMESTAMP WITH TIME ZONE,              -- replay: end of the window (exclusive); live: NULL
    config JSONB NOT NULL,                          -- BacktestConfig
    rules JSONB NOT NULL,                           -- Bithumb order rules in force
    state JSONB NOT NULL DEFAULT '{}',              -- engine state after last_bar (resume point)
    last_bar TIMESTAMP WITH TIME ZONE,
    bars_processed INTEGER NOT NULL DEFAULT 0,
    status VARCHAR(20) NOT NULL DEFAULT 'created',
    created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    updated_at TIMESTAMP WITH TIME ZONE
);

CREATE TABLE IF NOT EXISTS paper_equity (
    paper_run_id INTEGER NOT NULL REFERENCES paper_runs(id) ON DELETE CASCADE,
    ts TIMESTAMP WITH TIME ZONE NOT NULL,
    equity FLOAT NOT NULL,
    cash FLOAT NOT NULL,
    PRIMARY KEY (paper_run_id, ts)
);

ALTER TABLE strategy_executions ADD COLUMN IF NOT EXISTS paper_run_id INTEGER REFERENCES paper_runs(id) ON DELETE CASCADE;
ALTER TABLE strategy_executions ADD COLUMN IF NOT EXISTS bar_time TIMESTAMP WITH TIME ZONE;
ALTER TABLE orders ADD COLUMN IF NOT EXISTS paper_run_id INTEGER REFERENCES paper_runs(id) ON DELETE CASCADE;
ALTER TABLE positions ADD COLUMN IF NOT EXISTS paper_run_id INTEGER REFERENCES paper_runs(id) ON DELETE CASCADE;
ALTER TABLE positions ADD COLUMN IF NOT EXISTS entry_fee FLOAT;
ALTER TABLE positions ADD COLUMN IF NOT EXISTS exit_price FLOAT;
ALTER TABLE positions ADD COLUMN IF NOT EXISTS exit_fee FLOAT;
ALTER TABLE positions ADD COLUMN IF NOT EXISTS exit_reason VARCHAR(20);
ALTER TABLE trades ADD COLUMN IF NOT EXISTS paper_run_id INTEGER REFERENCES paper_runs(id) ON DELETE CASCADE;
ALTER TABLE trades ADD COLUMN IF NOT EXISTS position_id INTEGER REFERENCES positions(id) ON DELETE SET NULL;
ALTER TABLE portfolios ADD COLUMN IF NOT EXISTS paper_run_id INTEGER;

ALTER TABLE users ALTER COLUMN bithumb_api_key TYPE TEXT;
ALTER TABLE users ALTER COLUMN bithumb_secret_key TYPE TEXT;

CREATE INDEX IF NOT EXISTS idx_strategy_executions_paper_run ON strategy_executions(paper_run_id, bar_time);
CREATE INDEX IF NOT EXISTS idx_orders_paper_run ON orders(paper_run_id);
CREATE INDEX IF NOT EXISTS idx_positions_paper_run ON positions(paper_run_id);
CREATE INDEX IF NOT EXISTS idx_trades_paper_run ON trades(paper_run_id);
