-- sw_events.p_amount
CAST(e.amount_value AS DOUBLE PRECISION)

-- sw_features.f_max_2298cd02da
MAX(CASE WHEN event_name = 'order_completed' THEN p_amount END)

-- sw_layer_1
SELECT
  *,
  COALESCE(f_max_2298cd02da BETWEEN 100 AND 200, FALSE) AS s_event_max
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS TEXT) AS variant
FROM sw_layer_1
WHERE
  s_event_max
