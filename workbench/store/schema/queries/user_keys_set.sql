UPDATE users SET bithumb_api_key = :api_key, bithumb_secret_key = :secret_key, updated_at = NOW() WHERE id = :id
