-- Which of the stored runs :ids the user :user_id may see: their own and those shared with them.
SELECT b.id FROM backtest_results AS b
WHERE b.id = ANY(CAST(:ids AS integer[]))
  AND (b.user_id = :user_id
       OR EXISTS (SELECT 1 FROM backtest_shares AS sh WHERE sh.backtest_result_id = b.id AND sh.user_id = :user_id))
