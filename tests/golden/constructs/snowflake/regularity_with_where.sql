-- sw_events.p_amount
CASE
  WHEN e.event_name = 'order_completed'
  AND CAST(e.occurred_at AS TIMESTAMPNTZ) > CAST('2025-06-01 00:00:00' AS TIMESTAMPNTZ) - INTERVAL '90 DAY'
  THEN CASE
    WHEN (REGEXP_INSTR(JSON_EXTRACT_PATH_TEXT(TO_VARCHAR(e.properties), 'amount'), '^[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][+-]?[0-9]+)?$') > 0)
    THEN CAST(JSON_EXTRACT_PATH_TEXT(TO_VARCHAR(e.properties), 'amount') AS DOUBLE)
  END
END

-- sw_features.f_count_c0a6ec7527
COUNT(
  CASE
    WHEN event_name = 'order_completed'
    AND COALESCE(p_amount > 0, FALSE)
    AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMPNTZ) - INTERVAL '30 DAY'
    THEN 1
  END
)

-- sw_features.f_count_c99f4353c8
COUNT(
  CASE
    WHEN event_name = 'order_completed'
    AND COALESCE(p_amount > 0, FALSE)
    AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMPNTZ) - INTERVAL '60 DAY'
    AND ts <= CAST('2025-06-01 00:00:00' AS TIMESTAMPNTZ) - INTERVAL '30 DAY'
    THEN 1
  END
)

-- sw_features.f_count_0626df8fef
COUNT(
  CASE
    WHEN event_name = 'order_completed'
    AND COALESCE(p_amount > 0, FALSE)
    AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMPNTZ) - INTERVAL '90 DAY'
    AND ts <= CAST('2025-06-01 00:00:00' AS TIMESTAMPNTZ) - INTERVAL '60 DAY'
    THEN 1
  END
)

-- sw_base.f_count_c0a6ec7527
COALESCE(f.f_count_c0a6ec7527, 0)

-- sw_base.f_count_c99f4353c8
COALESCE(f.f_count_c99f4353c8, 0)

-- sw_base.f_count_0626df8fef
COALESCE(f.f_count_0626df8fef, 0)

-- sw_layer_1
SELECT
  *,
  (
    CASE WHEN f_count_c0a6ec7527 >= 1 THEN 1 ELSE 0 END + CASE WHEN f_count_c99f4353c8 >= 1 THEN 1 ELSE 0 END + CASE WHEN f_count_0626df8fef >= 1 THEN 1 ELSE 0 END
  ) >= 3 AS s_regularity_with_where
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS VARCHAR) AS variant
FROM sw_layer_1
WHERE
  s_regularity_with_where
