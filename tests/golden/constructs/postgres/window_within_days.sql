-- sw_features.f_count_b598910b56
COUNT(
  CASE
    WHEN event_name = 'product_viewed'
    AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '30 DAY'
    THEN 1
  END
)

-- sw_base.f_count_b598910b56
COALESCE(f.f_count_b598910b56, 0)

-- sw_layer_1
SELECT
  *,
  COALESCE(f_count_b598910b56 >= 3, FALSE) AS s_window_within_days
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS TEXT) AS variant
FROM sw_layer_1
WHERE
  s_window_within_days
