-- sw_features.f_count_d8d756fdd7
COUNT(
  CASE
    WHEN event_name = 'order_completed'
    AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '1 HOUR'
    THEN 1
  END
)

-- sw_base.f_count_d8d756fdd7
COALESCE(f.f_count_d8d756fdd7, 0)

-- sw_layer_1
SELECT
  *,
  COALESCE(f_count_d8d756fdd7 = 0, FALSE) AS s_window_between_ago_to_now
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS TEXT) AS variant
FROM sw_layer_1
WHERE
  s_window_between_ago_to_now
