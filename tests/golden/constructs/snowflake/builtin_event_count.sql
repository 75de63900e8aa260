-- sw_seen.f_count_529847ddf8
COUNT(1)

-- sw_base.f_count_529847ddf8
COALESCE(a.f_count_529847ddf8, 0)

-- sw_layer_1
SELECT
  *,
  COALESCE(f_count_529847ddf8 = 0, FALSE) AS s_builtin_event_count
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS VARCHAR) AS variant
FROM sw_layer_1
WHERE
  s_builtin_event_count
