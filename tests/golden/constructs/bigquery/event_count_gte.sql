-- sw_features.f_count_86930ff71d
COUNT(CASE WHEN event_name = 'product_viewed' THEN 1 END)

-- sw_base.f_count_86930ff71d
COALESCE(f.f_count_86930ff71d, 0)

-- sw_layer_1
SELECT
  *,
  COALESCE(f_count_86930ff71d >= 3, FALSE) AS s_event_count_gte
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS STRING) AS variant
FROM sw_layer_1
WHERE
  s_event_count_gte
