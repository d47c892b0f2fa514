-- A user's id by name (NULL when there is no such user).
SELECT id FROM users WHERE username = :username
