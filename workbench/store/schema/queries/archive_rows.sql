-- Every row of {table} in [start, end), as stored (the archive keeps all columns).
SELECT * FROM {table} WHERE timestamp >= :start AND timestamp < :end
