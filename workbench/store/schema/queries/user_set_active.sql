UPDATE users SET is_active = :active, updated_at = NOW() WHERE username = :username RETURNING id
