-- sw_events.p_amount
CAST(e.amount_value AS DOUBLE)

-- sw_features.f_sum_b19a3d6208
SUM(
  CASE
    WHEN event_name = 'order_completed'
    AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '30' DAY
    THEN p_amount
  END
)

-- sw_base.f_sum_b19a3d6208
COALESCE(f.f_sum_b19a3d6208, 0)

-- sw_layer_1
SELECT
  *,
  COALESCE(f_sum_b19a3d6208 >= 100, FALSE) AS s_window_with_measure
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS TEXT) AS variant
FROM sw_layer_1
WHERE
  s_window_with_measure
