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
      CAST(POSITION(SUBSTRING(MD5('holdout_50:' || user_id) FROM 1 FOR 1) IN '0123456789abcdef') - 1 AS BIGINT) * 268435456 + CAST(POSITION(SUBSTRING(MD5('holdout_50:' || user_id) FROM 2 FOR 1) IN '0123456789abcdef') - 1 AS BIGINT) * 16777216 + CAST(POSITION(SUBSTRING(MD5('holdout_50:' || user_id) FROM 3 FOR 1) IN '0123456789abcdef') - 1 AS BIGINT) * 1048576 + CAST(POSITION(SUBSTRING(MD5('holdout_50:' || user_id) FROM 4 FOR 1) IN '0123456789abcdef') - 1 AS BIGINT) * 65536 + CAST(POSITION(SUBSTRING(MD5('holdout_50:' || user_id) FROM 5 FOR 1) IN '0123456789abcdef') - 1 AS BIGINT) * 4096 + CAST(POSITION(SUBSTRING(MD5('holdout_50:' || user_id) FROM 6 FOR 1) IN '0123456789abcdef') - 1 AS BIGINT) * 256 + CAST(POSITION(SUBSTRING(MD5('holdout_50:' || user_id) FROM 7 FOR 1) IN '0123456789abcdef') - 1 AS BIGINT) * 16 + CAST(POSITION(SUBSTRING(MD5('holdout_50:' || user_id) FROM 8 FOR 1) IN '0123456789abcdef') - 1 AS BIGINT) * 1
    ) % 100 < 50
    THEN 'control'
    ELSE 'treatment'
  END AS variant
FROM sw_layer_1
WHERE
  s_holdout_50
