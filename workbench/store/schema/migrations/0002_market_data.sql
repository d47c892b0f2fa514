-- 0002: market-data tables (TimescaleDB hypertables where the extension exists).
-- Deviations from shared/schema.md, all forced by TimescaleDB or by idempotent ingestion:
--   * primary keys are (id, timestamp): a hypertable's unique indexes must contain its time column;
--   * transactions.bithumb_tx_id is unique together with timestamp (same reason);
--   * the documented (symbol[, timeframe], timestamp) indexes are UNIQUE, so re-running an import
--     cannot add duplicates (INSERT ... ON CONFLICT uses them).

CREATE TABLE IF NOT EXISTS tickers (
    id SERIAL,
    symbol VARCHAR(20) NOT NULL,
    timestamp TIMESTAMP WITH TIME ZONE NOT NULL,
    opening_price FLOAT NOT NULL,
    closing_price FLOAT NOT NULL,
    high_price FLOAT NOT NULL,
    low_price FLOAT NOT NULL,
    volume FLOAT NOT NULL,
    value FLOAT NOT NULL,
    change_24h FLOAT NOT NULL,
    change_rate_24h FLOAT NOT NULL,
    bid_price FLOAT,
    ask_price FLOAT,
    spread FLOAT,
    PRIMARY KEY (id, timestamp)
);

CREATE TABLE IF NOT EXISTS orderbooks (
    id SERIAL,
    symbol VARCHAR(20) NOT NULL,
    timestamp TIMESTAMP WITH TIME ZONE NOT NULL,
    bids TEXT NOT NULL, -- JSON array
    asks TEXT NOT NULL, -- JSON array
    bid_volume FLOAT,
    ask_volume FLOAT,
    spread FLOAT,
    mid_price FLOAT,
    PRIMARY KEY (id, timestamp)
);

CREATE TABLE IF NOT EXISTS transactions (
    id SERIAL,
    symbol VARCHAR(20) NOT NULL,
    timestamp TIMESTAMP WITH TIME ZONE NOT NULL,
    price FLOAT NOT NULL,
    quantity FLOAT NOT NULL,
    value FLOAT NOT NULL,
    side VARCHAR(10) NOT NULL,
    bithumb_tx_id VARCHAR(100),
    PRIMARY KEY (id, timestamp),
    CONSTRAINT transactions_bithumb_tx_id_key UNIQUE (bithumb_tx_id, timestamp)
);

CREATE TABLE IF NOT EXISTS candles (
    id SERIAL,
    symbol VARCHAR(20) NOT NULL,
    timeframe VARCHAR(10) NOT NULL,
    timestamp TIMESTAMP WITH TIME ZONE NOT NULL,
    open_price FLOAT NOT NULL,
    high_price FLOAT NOT NULL,
    low_price FLOAT NOT NULL,
    close_price FLOAT NOT NULL,
    volume FLOAT NOT NULL,
    vwap FLOAT,
    rsi FLOAT,
    macd FLOAT,
    bollinger_upper FLOAT,
    bollinger_middle FLOAT,
    bollinger_lower FLOAT,
    PRIMARY KEY (id, timestamp)
);

CREATE TABLE IF NOT EXISTS technical_indicators (
    id SERIAL,
    symbol VARCHAR(20) NOT NULL,
    timeframe VARCHAR(10) NOT NULL,
    timestamp TIMESTAMP WITH TIME ZONE NOT NULL,
    ma_5 FLOAT, ma_10 FLOAT, ma_20 FLOAT, ma_50 FLOAT, ma_100 FLOAT, ma_200 FLOAT,
    ema_8 FLOAT, ema_13 FLOAT, ema_21 FLOAT, ema_50 FLOAT, ema_200 FLOAT,
    rsi_14 FLOAT, stochastic_k FLOAT, stochastic_d FLOAT,
    macd_line FLOAT, macd_signal FLOAT, macd_histogram FLOAT, cci_20 FLOAT,
    atr_14 FLOAT, bollinger_upper FLOAT, bollinger_middle FLOAT, bollinger_lower FLOAT,
    keltner_upper FLOAT, keltner_middle FLOAT, keltner_lower FLOAT,
    volume_ma_20 FLOAT, obv FLOAT, vwap FLOAT,
    PRIMARY KEY (id, timestamp)
);

CREATE UNIQUE INDEX IF NOT EXISTS idx_tickers_symbol_time ON tickers(symbol, timestamp);
CREATE UNIQUE INDEX IF NOT EXISTS idx_orderbooks_symbol_time ON orderbooks(symbol, timestamp);
CREATE INDEX IF NOT EXISTS idx_transactions_symbol_time ON transactions(symbol, timestamp);
CREATE UNIQUE INDEX IF NOT EXISTS idx_candles_symbol_timeframe_time ON candles(symbol, timeframe, timestamp);
CREATE UNIQUE INDEX IF NOT EXISTS idx_indicators_symbol_timeframe_time
    ON technical_indicators(symbol, timeframe, timestamp);

-- TimescaleDB: hypertables, compression and the 30-day retention policy. On plain PostgreSQL
-- (no timescaledb extension available) this block does nothing and the tables stay ordinary.
DO $$
DECLARE
    t TEXT;
    seg TEXT;
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') THEN
        CREATE EXTENSION IF NOT EXISTS timescaledb;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
        RAISE NOTICE 'timescaledb not available: market-data tables are plain PostgreSQL tables';
        RETURN;
    END IF;
    FOREACH t IN ARRAY ARRAY['tickers', 'orderbooks', 'transactions', 'candles', 'technical_indicators'] LOOP
        PERFORM create_hypertable(t::regclass, 'timestamp', if_not_exists => TRUE, migrate_data => TRUE);
        seg := CASE WHEN t IN ('candles', 'technical_indicators') THEN 'symbol, timeframe' ELSE 'symbol' END;
        EXECUTE format('ALTER TABLE %I SET (timescaledb.compress, timescaledb.compress_segmentby = %L, '
                       'timescaledb.compress_orderby = %L)', t, seg, 'timestamp');
        PERFORM add_compression_policy(t::regclass, INTERVAL '7 days', if_not_exists => TRUE);
        PERFORM add_retention_policy(t::regclass, INTERVAL '30 days', if_not_exists => TRUE);
    END LOOP;
END $$;
