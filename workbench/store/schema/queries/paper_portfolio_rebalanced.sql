UPDATE portfolios
SET last_rebalanced = :ts
WHERE id = :id
