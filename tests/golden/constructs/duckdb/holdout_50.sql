-- sw_features.f_count_7c6e1b6459
COUNT(CASE WHEN event_name = 'order_completed' THEN 1 END)

-- sw_base.f_count_7c6e1b6459
COALESCE(f.f_count_7c6e1b6459, 0)

-- sw_layer_1
SELECT
  *,
  COALESCE(f_count_7c6e1b6459 >= 1, FALSE) AS s_holdout_50
FROM sw_base

-- final
SELECT
  user_id,
  CASE
    WHEN (
      CAST(STRPOS('0123456789abcdef', SUBSTRING(MD5('holdout_50:' || user_id), 1, 1)) - 1 AS BIGINT) * 268435456 + CAST(STRPOS('0123456789abcdef', SUBSTRING(MD5('holdout_50:' || user_id), 2, 1)) - 1 AS BIGINT) * 16777216 + CAST(STRPOS('0123456789abcdef', SUBSTRING(MD5('holdout_50:' || user_id), 3, 1)) - 1 AS BIGINT) * 1048576 + CAST(STRPOS('0123456789abcdef', SUBSTRING(MD5('holdout_50:' || user_id), 4, 1)) - 1 AS BIGINT) * 65536 + CAST(STRPOS('0123456789abcdef', SUBSTRING(MD5('holdout_50:' || user_id), 5, 1)) - 1 AS BIGINT) * 4096 + CAST(STRPOS('0123456789abcdef', SUBSTRING(MD5('holdout_50:' || user_id), 6, 1)) - 1 AS BIGINT) * 256 + CAST(STRPOS('0123456789abcdef', SUBSTRING(MD5('holdout_50:' || user_id), 7, 1)) - 1 AS BIGINT) * 16 + CAST(STRPOS('0123456789abcdef', SUBSTRING(MD5('holdout_50:' || user_id), 8, 1)) - 1 AS BIGINT) * 1
    ) % 100 < 50
    THEN 'control'
    ELSE 'treatment'
  END AS variant
FROM sw_layer_1
WHERE
  s_holdout_50
