-- Where a user's notifications go: address, chat and the per-channel preferences (users table).
SELECT email, email_notifications, telegram_notifications, telegram_chat_id
FROM users
WHERE id = :user_id
