-- sw_seen.f_last_seen_23f1a17008
MAX(ts)

-- sw_layer_1
SELECT
  *,
  COALESCE(
    f_last_seen_23f1a17008 <= CAST('2025-06-01 00:00:00' AS TIMESTAMPNTZ) - INTERVAL '14 DAY',
    FALSE
  ) AS s_builtin_last_seen_at
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS VARCHAR) AS variant
FROM sw_layer_1
WHERE
  s_builtin_last_seen_at
