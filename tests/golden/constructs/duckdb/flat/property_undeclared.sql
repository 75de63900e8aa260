-- sw_events.p_source
CAST(e.source AS TEXT)

-- sw_features.f_count_7c0d7df55d
COUNT(
  CASE
    WHEN event_name = 'order_completed' AND COALESCE(p_source = 'email', FALSE)
    THEN 1
  END
)

-- sw_base.f_count_7c0d7df55d
COALESCE(f.f_count_7c0d7df55d, 0)

-- sw_layer_1
SELECT
  *,
  COALESCE(f_count_7c0d7df55d >= 1, FALSE) AS s_property_undeclared
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS TEXT) AS variant
FROM sw_layer_1
WHERE
  s_property_undeclared
