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

-- sw_features.f_count_de91ebe160
COUNT(
  CASE
    WHEN event_name = 'order_completed' AND COALESCE(p_amount = 50, FALSE)
    THEN 1
  END
)

-- sw_features.f_count_307836eaed
COUNT(
  CASE
    WHEN event_name = 'order_completed' AND COALESCE(p_amount <> 50, TRUE)
    THEN 1
  END
)

-- sw_features.f_count_41800aa666
COUNT(
  CASE
    WHEN event_name = 'order_completed' AND COALESCE(p_amount IN (10, 12.5), FALSE)
    THEN 1
  END
)

-- sw_features.f_count_a6b5882495
COUNT(
  CASE
    WHEN event_name = 'order_completed' AND COALESCE(NOT p_amount IN (10, 12.5), TRUE)
    THEN 1
  END
)

-- sw_features.f_count_985f99fe01
COUNT(CASE WHEN event_name = 'order_completed' AND NOT p_amount IS NULL THEN 1 END)

-- sw_features.f_count_43e3472366
COUNT(
  CASE
    WHEN event_name = 'order_completed' AND COALESCE(p_amount > 50, FALSE)
    THEN 1
  END
)

-- sw_features.f_count_cff968eb12
COUNT(
  CASE
    WHEN event_name = 'order_completed' AND COALESCE(p_amount >= 50, FALSE)
    THEN 1
  END
)

-- sw_features.f_count_6bd2bed276
COUNT(
  CASE
    WHEN event_name = 'order_completed' AND COALESCE(p_amount < -1, FALSE)
    THEN 1
  END
)

-- sw_features.f_count_0ffc3af545
COUNT(
  CASE
    WHEN event_name = 'order_completed' AND COALESCE(p_amount <= 0.5, FALSE)
    THEN 1
  END
)

-- sw_features.f_count_eacb4b09c8
COUNT(
  CASE
    WHEN event_name = 'order_completed' AND COALESCE(p_amount BETWEEN 1 AND 99.5, FALSE)
    THEN 1
  END
)

-- sw_base.f_count_de91ebe160
COALESCE(f.f_count_de91ebe160, 0)

-- sw_base.f_count_307836eaed
COALESCE(f.f_count_307836eaed, 0)

-- sw_base.f_count_41800aa666
COALESCE(f.f_count_41800aa666, 0)

-- sw_base.f_count_a6b5882495
COALESCE(f.f_count_a6b5882495, 0)

-- sw_base.f_count_985f99fe01
COALESCE(f.f_count_985f99fe01, 0)

-- sw_base.f_count_43e3472366
COALESCE(f.f_count_43e3472366, 0)

-- sw_base.f_count_cff968eb12
COALESCE(f.f_count_cff968eb12, 0)

-- sw_base.f_count_6bd2bed276
COALESCE(f.f_count_6bd2bed276, 0)

-- sw_base.f_count_0ffc3af545
COALESCE(f.f_count_0ffc3af545, 0)

-- sw_base.f_count_eacb4b09c8
COALESCE(f.f_count_eacb4b09c8, 0)

-- sw_layer_1
SELECT
  *,
  COALESCE(f_count_de91ebe160 >= 1, FALSE)
  OR COALESCE(f_count_307836eaed >= 1, FALSE)
  OR COALESCE(f_count_41800aa666 >= 1, FALSE)
  OR COALESCE(f_count_a6b5882495 >= 1, FALSE)
  OR COALESCE(f_count_985f99fe01 >= 1, FALSE)
  OR COALESCE(f_count_43e3472366 >= 1, FALSE)
  OR COALESCE(f_count_cff968eb12 >= 1, FALSE)
  OR COALESCE(f_count_6bd2bed276 >= 1, FALSE)
  OR COALESCE(f_count_0ffc3af545 >= 1, FALSE)
  OR COALESCE(f_count_eacb4b09c8 >= 1, FALSE) AS s_property_number
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS STRING) AS variant
FROM sw_layer_1
WHERE
  s_property_number
