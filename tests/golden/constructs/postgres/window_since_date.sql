-- sw_features.f_count_42a9403836
COUNT(
  CASE
    WHEN event_name = 'order_completed' AND ts >= CAST('2025-01-01 00:00:00' AS TIMESTAMP)
    THEN 1
  END
)

-- sw_base.f_count_42a9403836
COALESCE(f.f_count_42a9403836, 0)

-- sw_layer_1
SELECT
  *,
  COALESCE(f_count_42a9403836 = 0, FALSE) AS s_window_since_date
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS TEXT) AS variant
FROM sw_layer_1
WHERE
  s_window_since_date
