-- sw_seen.f_first_seen_a3f042b1ad
MIN(ts)

-- sw_layer_1
SELECT
  *,
  COALESCE(f_first_seen_a3f042b1ad < CAST('2025-01-01 00:00:00' AS TIMESTAMPNTZ), FALSE) AS s_builtin_first_seen_at
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS VARCHAR) AS variant
FROM sw_layer_1
WHERE
  s_builtin_first_seen_at
