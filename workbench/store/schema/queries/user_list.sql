SELECT u.id, u.username, u.email, u.is_active, u.hashed_password <> '!' AS can_log_in, u.created_at,
       u.last_login,
       (SELECT count(*) FROM user_sessions s
        WHERE s.user_id = u.id AND s.is_active AND s.expires_at > NOW()) AS active_sessions
FROM users u ORDER BY u.username
