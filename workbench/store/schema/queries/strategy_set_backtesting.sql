UPDATE strategies SET is_backtesting = :flag, updated_at = NOW() WHERE id = :id
