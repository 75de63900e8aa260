-- sw_users.t_plan
CAST(u.plan AS STRING)

-- sw_layer_1
SELECT
  *,
  COALESCE(t_plan = 'pro', FALSE) AS s_holdout_10
FROM sw_base

-- final
SELECT
  user_id,
  CASE
    WHEN MOD(
      CAST(INSTR('0123456789abcdef', SUBSTRING(TO_HEX(MD5('holdout_10:' || user_id)), 1, 1)) - 1 AS INT64) * 268435456 + CAST(INSTR('0123456789abcdef', SUBSTRING(TO_HEX(MD5('holdout_10:' || user_id)), 2, 1)) - 1 AS INT64) * 16777216 + CAST(INSTR('0123456789abcdef', SUBSTRING(TO_HEX(MD5('holdout_10:' || user_id)), 3, 1)) - 1 AS INT64) * 1048576 + CAST(INSTR('0123456789abcdef', SUBSTRING(TO_HEX(MD5('holdout_10:' || user_id)), 4, 1)) - 1 AS INT64) * 65536 + CAST(INSTR('0123456789abcdef', SUBSTRING(TO_HEX(MD5('holdout_10:' || user_id)), 5, 1)) - 1 AS INT64) * 4096 + CAST(INSTR('0123456789abcdef', SUBSTRING(TO_HEX(MD5('holdout_10:' || user_id)), 6, 1)) - 1 AS INT64) * 256 + CAST(INSTR('0123456789abcdef', SUBSTRING(TO_HEX(MD5('holdout_10:' || user_id)), 7, 1)) - 1 AS INT64) * 16 + CAST(INSTR('0123456789abcdef', SUBSTRING(TO_HEX(MD5('holdout_10:' || user_id)), 8, 1)) - 1 AS INT64) * 1,
      100
    ) < 10
    THEN 'control'
    ELSE 'treatment'
  END AS variant
FROM sw_layer_1
WHERE
  s_holdout_10
