SELECT id FROM strategies WHERE user_id = :user_id AND name = :name ORDER BY id LIMIT 1
