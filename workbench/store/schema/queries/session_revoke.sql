UPDATE user_sessions SET is_active = FALSE WHERE session_token = :token_hash AND is_active
RETURNING user_id
