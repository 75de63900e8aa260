-- sw_events.p_amount
CAST(e.amount_value AS FLOAT64)

-- sw_features.f_avg_5d6282a3cc
AVG(CASE WHEN event_name = 'order_completed' THEN p_amount END)

-- sw_layer_1
SELECT
  *,
  COALESCE(f_avg_5d6282a3cc >= 99.5, FALSE) AS s_event_avg
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS STRING) AS variant
FROM sw_layer_1
WHERE
  s_event_avg
