-- sw_features.f_count_7c6e1b6459
COUNT(CASE WHEN event_name = 'order_completed' THEN 1 END)

-- sw_base.f_count_7c6e1b6459
COALESCE(f.f_count_7c6e1b6459, 0)

-- sw_layer_1
SELECT
  *,
  COALESCE(f_count_7c6e1b6459 > 3, FALSE) AS s_event_count_gt
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS VARCHAR) AS variant
FROM sw_layer_1
WHERE
  s_event_count_gt
