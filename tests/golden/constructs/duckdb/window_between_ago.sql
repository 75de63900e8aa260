-- sw_features.f_count_0394ae4478
COUNT(
  CASE
    WHEN event_name = 'order_completed'
    AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '14' DAY
    AND ts <= CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '7' DAY
    THEN 1
  END
)

-- sw_base.f_count_0394ae4478
COALESCE(f.f_count_0394ae4478, 0)

-- sw_layer_1
SELECT
  *,
  COALESCE(f_count_0394ae4478 >= 1, FALSE) AS s_window_between_ago
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS TEXT) AS variant
FROM sw_layer_1
WHERE
  s_window_between_ago
