-- sw_events.p_amount
CASE
  WHEN e.event_name = 'order_completed'
  THEN CASE
    WHEN (REGEXP_INSTR(JSON_EXTRACT_PATH_TEXT(TO_VARCHAR(e.properties), 'amount'), '^[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][+-]?[0-9]+)?$') > 0)
    THEN CAST(JSON_EXTRACT_PATH_TEXT(TO_VARCHAR(e.properties), 'amount') AS DOUBLE)
  END
END

-- sw_features.f_max_2298cd02da
MAX(CASE WHEN event_name = 'order_completed' THEN p_amount END)

-- sw_layer_1
SELECT
  *,
  COALESCE(f_max_2298cd02da BETWEEN 100 AND 200, FALSE) AS s_event_max
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS VARCHAR) AS variant
FROM sw_layer_1
WHERE
  s_event_max
