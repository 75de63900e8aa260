-- sw_users.t_plan
CAST(u.plan AS VARCHAR)

-- sw_layer_1
SELECT
  *,
  COALESCE(t_plan = 'pro', FALSE) AS s_holdout_10
FROM sw_base

-- final
SELECT
  user_id,
  CASE
    WHEN (
      CAST(CHARINDEX(SUBSTRING(MD5('holdout_10:' || user_id), 1, 1), '0123456789abcdef') - 1 AS BIGINT) * 268435456 + CAST(CHARINDEX(SUBSTRING(MD5('holdout_10:' || user_id), 2, 1), '0123456789abcdef') - 1 AS BIGINT) * 16777216 + CAST(CHARINDEX(SUBSTRING(MD5('holdout_10:' || user_id), 3, 1), '0123456789abcdef') - 1 AS BIGINT) * 1048576 + CAST(CHARINDEX(SUBSTRING(MD5('holdout_10:' || user_id), 4, 1), '0123456789abcdef') - 1 AS BIGINT) * 65536 + CAST(CHARINDEX(SUBSTRING(MD5('holdout_10:' || user_id), 5, 1), '0123456789abcdef') - 1 AS BIGINT) * 4096 + CAST(CHARINDEX(SUBSTRING(MD5('holdout_10:' || user_id), 6, 1), '0123456789abcdef') - 1 AS BIGINT) * 256 + CAST(CHARINDEX(SUBSTRING(MD5('holdout_10:' || user_id), 7, 1), '0123456789abcdef') - 1 AS BIGINT) * 16 + CAST(CHARINDEX(SUBSTRING(MD5('holdout_10:' || user_id), 8, 1), '0123456789abcdef') - 1 AS BIGINT) * 1
    ) % 100 < 10
    THEN 'control'
    ELSE 'treatment'
  END AS variant
FROM sw_layer_1
WHERE
  s_holdout_10
