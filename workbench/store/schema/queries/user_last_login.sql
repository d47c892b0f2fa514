UPDATE users SET last_login = NOW() WHERE id = :user_id
