INSERT INTO users (username, email, hashed_password, is_active, is_verified)
VALUES (:username, :email, '!', TRUE, FALSE)
ON CONFLICT (username) DO UPDATE SET username = EXCLUDED.username
RETURNING id
