SELECT pg_advisory_unlock(7261057, :id)
