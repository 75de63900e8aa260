-- sw_features.f_count_9eee7f085e
COUNT(
  CASE
    WHEN event_name = 'order_completed' AND ts >= CAST('2025-05-31 22:15:00' AS TIMESTAMP)
    THEN 1
  END
)

-- sw_base.f_count_9eee7f085e
COALESCE(f.f_count_9eee7f085e, 0)

-- sw_layer_1
SELECT
  *,
  COALESCE(f_count_9eee7f085e >= 1, FALSE) AS s_window_since_datetime
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS STRING) AS variant
FROM sw_layer_1
WHERE
  s_window_since_datetime
