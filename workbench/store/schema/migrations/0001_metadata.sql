-- 0001: PostgreSQL metadata tables (users, sessions, strategies, backtests, orders, trades,
-- positions, portfolios) and their indexes, as in shared/schema.md.
-- Additions to the document: foreign keys between the metadata tables.

DO $$ BEGIN
    CREATE TYPE order_type_enum AS ENUM ('buy', 'sell');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;

DO $$ BEGIN
    CREATE TYPE order_status_enum AS ENUM ('pending', 'partially_filled', 'filled', 'cancelled', 'rejected');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;

CREATE TABLE IF NOT EXISTS users (
    id SERIAL PRIMARY KEY,
    username VARCHAR(50) UNIQUE NOT NULL,
    email VARCHAR(100) UNIQUE NOT NULL,
    hashed_password VARCHAR(255) NOT NULL,
    is_active BOOLEAN DEFAULT TRUE,
    is_verified BOOLEAN DEFAULT FALSE,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    updated_at TIMESTAMP WITH TIME ZONE,
    last_login TIMESTAMP WITH TIME ZONE,
    bithumb_api_key VARCHAR(255),
    bithumb_secret_key VARCHAR(255),
    telegram_chat_id VARCHAR(50),
    email_notifications BOOLEAN DEFAULT TRUE,
    telegram_notifications BOOLEAN DEFAULT FALSE,
    max_risk_per_trade VARCHAR(10) DEFAULT '2.0',
    max_total_risk VARCHAR(10) DEFAULT '10.0',
    max_positions INTEGER DEFAULT 5
);

CREATE TABLE IF NOT EXISTS user_sessions (
    id SERIAL PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    session_token VARCHAR(255) UNIQUE NOT NULL,
    refresh_token VARCHAR(255) UNIQUE,
    expires_at TIMESTAMP WITH TIME ZONE NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    is_active BOOLEAN DEFAULT TRUE,
    ip_address VARCHAR(45),
    user_agent TEXT
);

CREATE TABLE IF NOT EXISTS strategies (
    id SERIAL PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name VARCHAR(100) NOT NULL,
    strategy_type VARCHAR(50) NOT NULL, -- scalping, day_trading, swing_trading, long_term
    description TEXT,
    parameters JSONB NOT NULL DEFAULT '{}',
    risk_per_trade FLOAT DEFAULT 2.0,
    max_positions INTEGER DEFAULT 5,
    stop_loss_pct FLOAT DEFAULT 2.0,
    take_profit_pct FLOAT DEFAULT 4.0,
    is_active BOOLEAN DEFAULT FALSE,
    is_backtesting BOOLEAN DEFAULT FALSE,
    total_trades INTEGER DEFAULT 0,
    winning_trades INTEGER DEFAULT 0,
    losing_trades INTEGER DEFAULT 0,
    total_pnl FLOAT DEFAULT 0.0,
    win_rate FLOAT DEFAULT 0.0,
    max_drawdown FLOAT DEFAULT 0.0,
    sharpe_ratio FLOAT DEFAULT 0.0,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    updated_at TIMESTAMP WITH TIME ZONE,
    last_executed TIMESTAMP WITH TIME ZONE,
    CONSTRAINT strategies_strategy_type_check
        CHECK (strategy_type IN ('scalping', 'day_trading', 'swing_trading', 'long_term'))
);

CREATE TABLE IF NOT EXISTS strategy_executions (
    id SERIAL PRIMARY KEY,
    strategy_id INTEGER NOT NULL REFERENCES strategies(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    execution_type VARCHAR(50) NOT NULL, -- signal, order, error
    signal_data JSONB,
    order_data JSONB,
    error_message TEXT,
    market_data JSONB,
    success BOOLEAN DEFAULT TRUE,
    execution_time FLOAT,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW()
);

CREATE TABLE IF NOT EXISTS backtest_results (
    id SERIAL PRIMARY KEY,
    strategy_id INTEGER NOT NULL REFERENCES strategies(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    start_date TIMESTAMP WITH TIME ZONE NOT NULL,
    end_date TIMESTAMP WITH TIME ZONE NOT NULL,
    initial_capital FLOAT NOT NULL,
    symbol VARCHAR(20) NOT NULL,
    timeframe VARCHAR(10) NOT NULL,
    total_return FLOAT DEFAULT 0.0,
    annual_return FLOAT DEFAULT 0.0,
    max_drawdown FLOAT DEFAULT 0.0,
    sharpe_ratio FLOAT DEFAULT 0.0,
    sortino_ratio FLOAT DEFAULT 0.0,
    win_rate FLOAT DEFAULT 0.0,
    profit_factor FLOAT DEFAULT 0.0,
    total_trades INTEGER DEFAULT 0,
    winning_trades INTEGER DEFAULT 0,
    losing_trades INTEGER DEFAULT 0,
    avg_win FLOAT DEFAULT 0.0,
    avg_loss FLOAT DEFAULT 0.0,
    largest_win FLOAT DEFAULT 0.0,
    largest_loss FLOAT DEFAULT 0.0,
    equity_curve JSONB,
    trade_history JSONB,
    monthly_returns JSONB,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    execution_time FLOAT
);

CREATE TABLE IF NOT EXISTS orders (
    id SERIAL PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    strategy_id INTEGER REFERENCES strategies(id) ON DELETE SET NULL,
    bithumb_order_id VARCHAR(100) UNIQUE,
    symbol VARCHAR(20) NOT NULL,
    order_type order_type_enum NOT NULL, -- buy, sell
    order_side VARCHAR(10) NOT NULL, -- bid, ask
    quantity FLOAT NOT NULL,
    price FLOAT,
    filled_quantity FLOAT DEFAULT 0.0,
    remaining_quantity FLOAT NOT NULL,
    status order_status_enum DEFAULT 'pending',
    fee FLOAT DEFAULT 0.0,
    fee_currency VARCHAR(10) DEFAULT 'KRW',
    average_fill_price FLOAT,
    total_filled_value FLOAT DEFAULT 0.0,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    updated_at TIMESTAMP WITH TIME ZONE,
    filled_at TIMESTAMP WITH TIME ZONE,
    cancelled_at TIMESTAMP WITH TIME ZONE,
    notes TEXT
);

CREATE TABLE IF NOT EXISTS trades (
    id SERIAL PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    strategy_id INTEGER REFERENCES strategies(id) ON DELETE SET NULL,
    bithumb_trade_id VARCHAR(100) UNIQUE,
    symbol VARCHAR(20) NOT NULL,
    trade_side VARCHAR(10) NOT NULL, -- buy, sell
    quantity FLOAT NOT NULL,
    price FLOAT NOT NULL,
    value FLOAT NOT NULL,
    fee FLOAT DEFAULT 0.0,
    fee_currency VARCHAR(10) DEFAULT 'KRW',
    trade_time TIMESTAMP WITH TIME ZONE NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW()
);

CREATE TABLE IF NOT EXISTS positions (
    id SERIAL PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    strategy_id INTEGER REFERENCES strategies(id) ON DELETE SET NULL,
    symbol VARCHAR(20) NOT NULL,
    side VARCHAR(10) NOT NULL, -- long, short
    quantity FLOAT NOT NULL,
    entry_price FLOAT NOT NULL,
    current_price FLOAT,
    unrealized_pnl FLOAT DEFAULT 0.0,
    realized_pnl FLOAT DEFAULT 0.0,
    total_pnl FLOAT DEFAULT 0.0,
    stop_loss_price FLOAT,
    take_profit_price FLOAT,
    is_active BOOLEAN DEFAULT TRUE,
    opened_at TIMESTAMP WITH TIME ZONE NOT NULL,
    closed_at TIMESTAMP WITH TIME ZONE,
    updated_at TIMESTAMP WITH TIME ZONE
);

CREATE TABLE IF NOT EXISTS portfolios (
    id SERIAL PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name VARCHAR(100) NOT NULL,
    description TEXT,
    total_balance FLOAT DEFAULT 0.0,
    available_balance FLOAT DEFAULT 0.0,
    invested_balance FLOAT DEFAULT 0.0,
    total_return FLOAT DEFAULT 0.0,
    daily_return FLOAT DEFAULT 0.0,
    max_drawdown FLOAT DEFAULT 0.0,
    sharpe_ratio FLOAT DEFAULT 0.0,
    holdings JSONB,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    updated_at TIMESTAMP WITH TIME ZONE,
    last_rebalanced TIMESTAMP WITH TIME ZONE
);

CREATE INDEX IF NOT EXISTS idx_users_username ON users(username);
CREATE INDEX IF NOT EXISTS idx_users_email ON users(email);
CREATE INDEX IF NOT EXISTS idx_user_sessions_user_id ON user_sessions(user_id);
CREATE INDEX IF NOT EXISTS idx_user_sessions_token ON user_sessions(session_token);
CREATE INDEX IF NOT EXISTS idx_strategies_user_id ON strategies(user_id);
CREATE INDEX IF NOT EXISTS idx_strategies_active ON strategies(is_active);
CREATE INDEX IF NOT EXISTS idx_strategy_executions_strategy_id ON strategy_executions(strategy_id);
CREATE INDEX IF NOT EXISTS idx_strategy_executions_created_at ON strategy_executions(created_at);
CREATE INDEX IF NOT EXISTS idx_orders_user_id ON orders(user_id);
CREATE INDEX IF NOT EXISTS idx_orders_strategy_id ON orders(strategy_id);
CREATE INDEX IF NOT EXISTS idx_orders_symbol ON orders(symbol);
CREATE INDEX IF NOT EXISTS idx_orders_status ON orders(status);
CREATE INDEX IF NOT EXISTS idx_orders_created_at ON orders(created_at);
CREATE INDEX IF NOT EXISTS idx_trades_user_id ON trades(user_id);
CREATE INDEX IF NOT EXISTS idx_trades_symbol ON trades(symbol);
CREATE INDEX IF NOT EXISTS idx_trades_trade_time ON trades(trade_time);
-- not in the document: backtest_results is read per strategy (aggregates, comparisons)
CREATE INDEX IF NOT EXISTS idx_backtest_results_strategy_id ON backtest_results(strategy_id);
