SELECT id, username, email, hashed_password, is_active, is_verified, created_at, last_login
FROM users WHERE username = :username
