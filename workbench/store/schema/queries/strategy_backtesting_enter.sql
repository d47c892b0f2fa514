-- Held (shared) on a connection of its own while a backtest, sweep or optimization of the strategy runs:
-- the key pair (7261057, strategy id); released when that connection closes, also when its process dies.
SELECT pg_advisory_lock_shared(7261057, :id)
