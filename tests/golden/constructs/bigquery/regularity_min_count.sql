-- sw_features.f_count_b54e4a9544
COUNT(
  CASE
    WHEN event_name = 'app_opened'
    AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '1' DAY
    THEN 1
  END
)

-- sw_features.f_count_50f1714484
COUNT(
  CASE
    WHEN event_name = 'app_opened'
    AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '2' DAY
    AND ts <= CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '1' DAY
    THEN 1
  END
)

-- sw_features.f_count_0d609aa4a3
COUNT(
  CASE
    WHEN event_name = 'app_opened'
    AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '3' DAY
    AND ts <= CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '2' DAY
    THEN 1
  END
)

-- sw_features.f_count_20e593d87c
COUNT(
  CASE
    WHEN event_name = 'app_opened'
    AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '4' DAY
    AND ts <= CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '3' DAY
    THEN 1
  END
)

-- sw_features.f_count_9ae91ab41a
COUNT(
  CASE
    WHEN event_name = 'app_opened'
    AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '5' DAY
    AND ts <= CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '4' DAY
    THEN 1
  END
)

-- sw_features.f_count_e4a987c980
COUNT(
  CASE
    WHEN event_name = 'app_opened'
    AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '6' DAY
    AND ts <= CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '5' DAY
    THEN 1
  END
)

-- sw_features.f_count_770df03ab4
COUNT(
  CASE
    WHEN event_name = 'app_opened'
    AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '7' DAY
    AND ts <= CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '6' DAY
    THEN 1
  END
)

-- sw_base.f_count_b54e4a9544
COALESCE(f.f_count_b54e4a9544, 0)

-- sw_base.f_count_50f1714484
COALESCE(f.f_count_50f1714484, 0)

-- sw_base.f_count_0d609aa4a3
COALESCE(f.f_count_0d609aa4a3, 0)

-- sw_base.f_count_20e593d87c
COALESCE(f.f_count_20e593d87c, 0)

-- sw_base.f_count_9ae91ab41a
COALESCE(f.f_count_9ae91ab41a, 0)

-- sw_base.f_count_e4a987c980
COALESCE(f.f_count_e4a987c980, 0)

-- sw_base.f_count_770df03ab4
COALESCE(f.f_count_770df03ab4, 0)

-- sw_layer_1
SELECT
  *,
  (
    CASE WHEN f_count_b54e4a9544 >= 2 THEN 1 ELSE 0 END + CASE WHEN f_count_50f1714484 >= 2 THEN 1 ELSE 0 END + CASE WHEN f_count_0d609aa4a3 >= 2 THEN 1 ELSE 0 END + CASE WHEN f_count_20e593d87c >= 2 THEN 1 ELSE 0 END + CASE WHEN f_count_9ae91ab41a >= 2 THEN 1 ELSE 0 END + CASE WHEN f_count_e4a987c980 >= 2 THEN 1 ELSE 0 END + CASE WHEN f_count_770df03ab4 >= 2 THEN 1 ELSE 0 END
  ) >= 5 AS s_regularity_min_count
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS STRING) AS variant
FROM sw_layer_1
WHERE
  s_regularity_min_count
