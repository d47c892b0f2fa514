UPDATE user_sessions SET is_active = FALSE WHERE user_id = :user_id AND is_active
RETURNING session_token
