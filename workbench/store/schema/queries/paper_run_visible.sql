-- Which of the paper runs :ids belong to the user :user_id (paper runs are not shared).
SELECT r.id FROM paper_runs AS r WHERE r.id = ANY(CAST(:ids AS integer[])) AND r.user_id = :user_id
