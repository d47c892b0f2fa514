-- A live session: active, not expired, of an active user.
SELECT s.id, s.user_id, u.username, s.expires_at
FROM user_sessions s JOIN users u ON u.id = s.user_id
WHERE s.session_token = :token_hash AND s.is_active AND s.expires_at > NOW() AND u.is_active
