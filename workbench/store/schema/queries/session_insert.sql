INSERT INTO user_sessions (user_id, session_token, expires_at, created_at, is_active, ip_address, user_agent)
VALUES (:user_id, :token_hash, :expires_at, NOW(), TRUE, :ip_address, :user_agent)
RETURNING id
