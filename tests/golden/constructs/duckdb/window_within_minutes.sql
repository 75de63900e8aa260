-- sw_features.f_count_ce56302e2f
COUNT(
  CASE
    WHEN event_name = 'product_viewed'
    AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '90' MINUTE
    THEN 1
  END
)

-- sw_base.f_count_ce56302e2f
COALESCE(f.f_count_ce56302e2f, 0)

-- sw_layer_1
SELECT
  *,
  COALESCE(f_count_ce56302e2f >= 1, FALSE) AS s_window_within_minutes
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS TEXT) AS variant
FROM sw_layer_1
WHERE
  s_window_within_minutes
