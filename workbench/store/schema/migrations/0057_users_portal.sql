-- 0057: users who log in to the report portal, and runs shared between users.
-- users and user_sessions are the document's tables (0001); session_token holds the sha256 (hex) of the
-- token the browser keeps, never the token itself. Additions to shared/schema.md: backtest_shares
-- (a run its owner shared with another user) and the indexes below.

CREATE TABLE IF NOT EXISTS backtest_shares (
    backtest_result_id INTEGER NOT NULL REFERENCES backtest_results(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,   -- the user it is shared with
    shared_by INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    PRIMARY KEY (backtest_result_id, user_id)
);

CREATE INDEX IF NOT EXISTS idx_backtest_shares_user_id ON backtest_shares(user_id);
CREATE INDEX IF NOT EXISTS idx_backtest_results_user_id ON backtest_results(user_id);
CREATE INDEX IF NOT EXISTS idx_user_sessions_active ON user_sessions(user_id) WHERE is_active;
