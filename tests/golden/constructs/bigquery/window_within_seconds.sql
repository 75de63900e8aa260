-- sw_features.f_count_65aee55625
COUNT(
  CASE
    WHEN event_name = 'product_viewed'
    AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '45' SECOND
    THEN 1
  END
)

-- sw_base.f_count_65aee55625
COALESCE(f.f_count_65aee55625, 0)

-- sw_layer_1
SELECT
  *,
  COALESCE(f_count_65aee55625 >= 1, FALSE) AS s_window_within_seconds
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS STRING) AS variant
FROM sw_layer_1
WHERE
  s_window_within_seconds
