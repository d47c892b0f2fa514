-- Whether no other run of the strategy holds its shared lock (then this connection holds it exclusively).
SELECT pg_try_advisory_lock(7261057, :id)
