-- sw_events.p_placed_at
CAST(e.placed_at_ts AS TIMESTAMP)

-- sw_features.f_count_3b1481c1ab
COUNT(
  CASE
    WHEN event_name = 'order_completed'
    AND COALESCE(p_placed_at = CAST('2025-05-01 10:00:00' AS TIMESTAMP), FALSE)
    THEN 1
  END
)

-- sw_features.f_count_241f4bd398
COUNT(
  CASE
    WHEN event_name = 'order_completed'
    AND COALESCE(p_placed_at <> CAST('2025-05-01 00:00:00' AS TIMESTAMP), TRUE)
    THEN 1
  END
)

-- sw_features.f_count_7c4dd71cc1
COUNT(
  CASE
    WHEN event_name = 'order_completed'
    AND COALESCE(
      p_placed_at IN (
        CAST('2025-05-01 00:00:00' AS TIMESTAMP),
        CAST('2025-05-02 00:00:00' AS TIMESTAMP)
      ),
      FALSE
    )
    THEN 1
  END
)

-- sw_features.f_count_de27611785
COUNT(
  CASE
    WHEN event_name = 'order_completed'
    AND COALESCE(NOT p_placed_at IN (CAST('2025-05-01 00:00:00' AS TIMESTAMP)), TRUE)
    THEN 1
  END
)

-- sw_features.f_count_ad3e403197
COUNT(CASE WHEN event_name = 'order_completed' AND NOT p_placed_at IS NULL THEN 1 END)

-- sw_features.f_count_c18edb4059
COUNT(
  CASE
    WHEN event_name = 'order_completed'
    AND COALESCE(p_placed_at < CAST('2025-05-01 00:00:00' AS TIMESTAMP), FALSE)
    THEN 1
  END
)

-- sw_features.f_count_f09c80e946
COUNT(
  CASE
    WHEN event_name = 'order_completed'
    AND COALESCE(p_placed_at > CAST('2025-05-01 10:00:00' AS TIMESTAMP), FALSE)
    THEN 1
  END
)

-- sw_features.f_count_3b281774db
COUNT(
  CASE
    WHEN event_name = 'order_completed'
    AND COALESCE(
      p_placed_at BETWEEN CAST('2025-05-01 00:00:00' AS TIMESTAMP) AND CAST('2025-05-31 00:00:00' AS TIMESTAMP),
      FALSE
    )
    THEN 1
  END
)

-- sw_features.f_count_5dd2213f56
COUNT(
  CASE
    WHEN event_name = 'order_completed'
    AND COALESCE(p_placed_at <= CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '7' DAY, FALSE)
    THEN 1
  END
)

-- sw_features.f_count_771191dc9b
COUNT(
  CASE
    WHEN event_name = 'order_completed'
    AND COALESCE(
      p_placed_at > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '12' HOUR
      AND p_placed_at <= CAST('2025-06-01 00:00:00' AS TIMESTAMP),
      FALSE
    )
    THEN 1
  END
)

-- sw_features.f_count_29cc5d7e3b
COUNT(
  CASE
    WHEN event_name = 'order_completed'
    AND COALESCE(
      p_placed_at >= CAST('2025-06-01 00:00:00' AS TIMESTAMP)
      AND p_placed_at < CAST('2025-06-01 00:00:00' AS TIMESTAMP) + INTERVAL '1' DAY,
      FALSE
    )
    THEN 1
  END
)

-- sw_base.f_count_3b1481c1ab
COALESCE(f.f_count_3b1481c1ab, 0)

-- sw_base.f_count_241f4bd398
COALESCE(f.f_count_241f4bd398, 0)

-- sw_base.f_count_7c4dd71cc1
COALESCE(f.f_count_7c4dd71cc1, 0)

-- sw_base.f_count_de27611785
COALESCE(f.f_count_de27611785, 0)

-- sw_base.f_count_ad3e403197
COALESCE(f.f_count_ad3e403197, 0)

-- sw_base.f_count_c18edb4059
COALESCE(f.f_count_c18edb4059, 0)

-- sw_base.f_count_f09c80e946
COALESCE(f.f_count_f09c80e946, 0)

-- sw_base.f_count_3b281774db
COALESCE(f.f_count_3b281774db, 0)

-- sw_base.f_count_5dd2213f56
COALESCE(f.f_count_5dd2213f56, 0)

-- sw_base.f_count_771191dc9b
COALESCE(f.f_count_771191dc9b, 0)

-- sw_base.f_count_29cc5d7e3b
COALESCE(f.f_count_29cc5d7e3b, 0)

-- sw_layer_1
SELECT
  *,
  COALESCE(f_count_3b1481c1ab >= 1, FALSE)
  OR COALESCE(f_count_241f4bd398 >= 1, FALSE)
  OR COALESCE(f_count_7c4dd71cc1 >= 1, FALSE)
  OR COALESCE(f_count_de27611785 >= 1, FALSE)
  OR COALESCE(f_count_ad3e403197 >= 1, FALSE)
  OR COALESCE(f_count_c18edb4059 >= 1, FALSE)
  OR COALESCE(f_count_f09c80e946 >= 1, FALSE)
  OR COALESCE(f_count_3b281774db >= 1, FALSE)
  OR COALESCE(f_count_5dd2213f56 >= 1, FALSE)
  OR COALESCE(f_count_771191dc9b >= 1, FALSE)
  OR COALESCE(f_count_29cc5d7e3b >= 1, FALSE) AS s_property_timestamp
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS STRING) AS variant
FROM sw_layer_1
WHERE
  s_property_timestamp
