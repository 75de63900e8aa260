-- sw_features.f_count_fd4a303641
COUNT(
  CASE
    WHEN event_name = 'order_completed'
    AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '30' DAY
    THEN 1
  END
)

-- sw_base.f_count_fd4a303641
COALESCE(f.f_count_fd4a303641, 0)

-- sw_layer_1
SELECT
  *,
  NOT COALESCE(f_count_fd4a303641 >= 1, FALSE) AS s_boolean_not_event
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS STRING) AS variant
FROM sw_layer_1
WHERE
  s_boolean_not_event
