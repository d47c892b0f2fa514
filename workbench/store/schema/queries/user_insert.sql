-- A new user, or the password-less owner row that ensure_user made for WORKBENCH_USERNAME (claimed: it
-- gets the email and password). A user that already has a password is left alone (no row returned).
INSERT INTO users (username, email, hashed_password, is_active, is_verified, created_at)
VALUES (:username, :email, :hashed_password, TRUE, FALSE, NOW())
ON CONFLICT (username) DO UPDATE SET email = EXCLUDED.email, hashed_password = EXCLUDED.hashed_password,
    is_active = TRUE, updated_at = NOW()
    WHERE users.hashed_password = '!'
RETURNING id
