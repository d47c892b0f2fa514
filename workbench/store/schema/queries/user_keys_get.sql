SELECT bithumb_api_key, bithumb_secret_key FROM users WHERE id = :id
