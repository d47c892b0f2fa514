INSERT INTO portfolios (user_id, name, description, total_balance, available_balance, invested_balance, holdings,
                        created_at, updated_at)
VALUES (:user_id, :name, :description, :capital, :capital, 0.0, '{}'::jsonb, NOW(), NOW())
RETURNING id
