UPDATE users SET hashed_password = :hashed_password, updated_at = NOW() WHERE username = :username
RETURNING id
