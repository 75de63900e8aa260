-- sw_events.p_amount
CASE
  WHEN e.event_name = 'order_completed'
  THEN CASE
    WHEN REGEXP_CONTAINS(
      JSON_EXTRACT_SCALAR(e.properties, '$.amount'),
      '^[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][+-]?[0-9]+)?$'
    )
    THEN CAST(JSON_EXTRACT_SCALAR(e.properties, '$.amount') AS FLOAT64)
  END
END

-- sw_features.f_sum_e0ce8f2a16
SUM(CASE WHEN event_name = 'order_completed' THEN p_amount END)

-- sw_base.f_sum_e0ce8f2a16
COALESCE(f.f_sum_e0ce8f2a16, 0)

-- sw_layer_1
SELECT
  *,
  COALESCE(f_sum_e0ce8f2a16 > 500, FALSE) AS s_event_sum
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS STRING) AS variant
FROM sw_layer_1
WHERE
  s_event_sum
