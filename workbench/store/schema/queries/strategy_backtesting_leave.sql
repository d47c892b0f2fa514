SELECT pg_advisory_unlock_shared(7261057, :id)
