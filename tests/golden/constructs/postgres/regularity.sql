-- sw_features.f_count_fa6bd46114
COUNT(
  CASE
    WHEN event_name = 'app_opened'
    AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '7 DAY'
    THEN 1
  END
)

-- sw_features.f_count_29d03ed55f
COUNT(
  CASE
    WHEN event_name = 'app_opened'
    AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '14 DAY'
    AND ts <= CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '7 DAY'
    THEN 1
  END
)

-- sw_features.f_count_eb3dc76855
COUNT(
  CASE
    WHEN event_name = 'app_opened'
    AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '21 DAY'
    AND ts <= CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '14 DAY'
    THEN 1
  END
)

-- sw_features.f_count_07ae36b60b
COUNT(
  CASE
    WHEN event_name = 'app_opened'
    AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '28 DAY'
    AND ts <= CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '21 DAY'
    THEN 1
  END
)

-- sw_base.f_count_fa6bd46114
COALESCE(f.f_count_fa6bd46114, 0)

-- sw_base.f_count_29d03ed55f
COALESCE(f.f_count_29d03ed55f, 0)

-- sw_base.f_count_eb3dc76855
COALESCE(f.f_count_eb3dc76855, 0)

-- sw_base.f_count_07ae36b60b
COALESCE(f.f_count_07ae36b60b, 0)

-- sw_layer_1
SELECT
  *,
  (
    CASE WHEN f_count_fa6bd46114 >= 1 THEN 1 ELSE 0 END + CASE WHEN f_count_29d03ed55f >= 1 THEN 1 ELSE 0 END + CASE WHEN f_count_eb3dc76855 >= 1 THEN 1 ELSE 0 END + CASE WHEN f_count_07ae36b60b >= 1 THEN 1 ELSE 0 END
  ) >= 3 AS s_regularity
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS TEXT) AS variant
FROM sw_layer_1
WHERE
  s_regularity
