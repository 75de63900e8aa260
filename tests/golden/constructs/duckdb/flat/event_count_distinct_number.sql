-- sw_events.p_amount
CAST(e.amount_value AS DOUBLE)

-- sw_features.f_count_distinct_8b39309c93
COUNT(DISTINCT CASE WHEN event_name = 'order_completed' THEN p_amount END)

-- sw_base.f_count_distinct_8b39309c93
COALESCE(f.f_count_distinct_8b39309c93, 0)

-- sw_layer_1
SELECT
  *,
  COALESCE(f_count_distinct_8b39309c93 <> 1, FALSE) AS s_event_count_distinct_number
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS TEXT) AS variant
FROM sw_layer_1
WHERE
  s_event_count_distinct_number
