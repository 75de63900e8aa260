-- sw_events.p_amount
CASE
  WHEN e.event_name = 'order_completed'
  AND CAST(e.occurred_at AS TIMESTAMP) > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '30' DAY
  THEN CASE
    WHEN REGEXP_CONTAINS(
      JSON_EXTRACT_SCALAR(e.properties, '$.amount'),
      '^[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][+-]?[0-9]+)?$'
    )
    THEN CAST(JSON_EXTRACT_SCALAR(e.properties, '$.amount') AS FLOAT64)
  END
END

-- sw_features.f_sum_b19a3d6208
SUM(
  CASE
    WHEN event_name = 'order_completed'
    AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '30' DAY
    THEN p_amount
  END
)

-- sw_base.f_sum_b19a3d6208
COALESCE(f.f_sum_b19a3d6208, 0)

-- sw_layer_1
SELECT
  *,
  COALESCE(f_sum_b19a3d6208 >= 100, FALSE) AS s_window_with_measure
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS STRING) AS variant
FROM sw_layer_1
WHERE
  s_window_with_measure
