-- sw_events.p_is_gift
CASE
  WHEN e.event_name = 'order_completed'
  THEN CASE
    WHEN LOWER(JSON_EXTRACT_STRING(e.properties, '$.is_gift')) IN ('true', 'false')
    THEN CAST(JSON_EXTRACT_STRING(e.properties, '$.is_gift') AS BOOLEAN)
  END
END

-- sw_features.f_count_6896df50ac
COUNT(
  CASE
    WHEN event_name = 'order_completed' AND COALESCE(p_is_gift = TRUE, FALSE)
    THEN 1
  END
)

-- sw_features.f_count_f8d5cc60f1
COUNT(
  CASE
    WHEN event_name = 'order_completed' AND COALESCE(p_is_gift <> TRUE, TRUE)
    THEN 1
  END
)

-- sw_features.f_count_085cd3f888
COUNT(
  CASE
    WHEN event_name = 'order_completed' AND COALESCE(p_is_gift IN (FALSE), FALSE)
    THEN 1
  END
)

-- sw_features.f_count_8fe9fe237f
COUNT(
  CASE
    WHEN event_name = 'order_completed' AND COALESCE(NOT p_is_gift IN (FALSE), TRUE)
    THEN 1
  END
)

-- sw_features.f_count_38153e4ec0
COUNT(CASE WHEN event_name = 'order_completed' AND p_is_gift IS NULL THEN 1 END)

-- sw_base.f_count_6896df50ac
COALESCE(f.f_count_6896df50ac, 0)

-- sw_base.f_count_f8d5cc60f1
COALESCE(f.f_count_f8d5cc60f1, 0)

-- sw_base.f_count_085cd3f888
COALESCE(f.f_count_085cd3f888, 0)

-- sw_base.f_count_8fe9fe237f
COALESCE(f.f_count_8fe9fe237f, 0)

-- sw_base.f_count_38153e4ec0
COALESCE(f.f_count_38153e4ec0, 0)

-- sw_layer_1
SELECT
  *,
  COALESCE(f_count_6896df50ac >= 1, FALSE)
  OR COALESCE(f_count_f8d5cc60f1 >= 1, FALSE)
  OR COALESCE(f_count_085cd3f888 >= 1, FALSE)
  OR COALESCE(f_count_8fe9fe237f >= 1, FALSE)
  OR COALESCE(f_count_38153e4ec0 >= 1, FALSE) AS s_property_boolean
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS TEXT) AS variant
FROM sw_layer_1
WHERE
  s_property_boolean
