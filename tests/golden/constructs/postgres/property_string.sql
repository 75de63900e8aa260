-- sw_events.p_product_id
CASE
  WHEN e.event_name = 'product_viewed'
  THEN (CAST(e.properties AS JSONB) ->> 'product_id')
END

-- sw_features.f_count_4468a2df01
COUNT(
  CASE
    WHEN event_name = 'product_viewed' AND COALESCE(p_product_id = 'sku-1', FALSE)
    THEN 1
  END
)

-- sw_features.f_count_70788bbbaa
COUNT(
  CASE
    WHEN event_name = 'product_viewed' AND COALESCE(p_product_id <> 'sku-1', TRUE)
    THEN 1
  END
)

-- sw_features.f_count_16e3dc5533
COUNT(
  CASE
    WHEN event_name = 'product_viewed'
    AND COALESCE(p_product_id IN ('sku-1', 'sku-2'), FALSE)
    THEN 1
  END
)

-- sw_features.f_count_c56f52ba4c
COUNT(
  CASE
    WHEN event_name = 'product_viewed'
    AND COALESCE(NOT p_product_id IN ('sku-1', 'sku-2'), TRUE)
    THEN 1
  END
)

-- sw_features.f_count_e3616be267
COUNT(CASE WHEN event_name = 'product_viewed' AND NOT p_product_id IS NULL THEN 1 END)

-- sw_features.f_count_ac5d984d06
COUNT(CASE WHEN event_name = 'product_viewed' AND p_product_id IS NULL THEN 1 END)

-- sw_features.f_count_f7597f4b4a
COUNT(
  CASE
    WHEN event_name = 'product_viewed'
    AND COALESCE(POSITION('%_' IN p_product_id) > 0, FALSE)
    THEN 1
  END
)

-- sw_features.f_count_d77eda7bf0
COUNT(
  CASE
    WHEN event_name = 'product_viewed'
    AND COALESCE(NOT POSITION('sku' IN p_product_id) > 0, TRUE)
    THEN 1
  END
)

-- sw_features.f_count_9658bace3d
COUNT(
  CASE
    WHEN event_name = 'product_viewed'
    AND COALESCE(LEFT(p_product_id, LENGTH('sku-')) = 'sku-', FALSE)
    THEN 1
  END
)

-- sw_features.f_count_e91b73516a
COUNT(
  CASE
    WHEN event_name = 'product_viewed'
    AND COALESCE(RIGHT(p_product_id, LENGTH('-x')) = '-x', FALSE)
    THEN 1
  END
)

-- sw_features.f_count_2671cd63bd
COUNT(
  CASE
    WHEN event_name = 'product_viewed' AND COALESCE(p_product_id ~ '^sku-[0-9]+$', FALSE)
    THEN 1
  END
)

-- sw_base.f_count_4468a2df01
COALESCE(f.f_count_4468a2df01, 0)

-- sw_base.f_count_70788bbbaa
COALESCE(f.f_count_70788bbbaa, 0)

-- sw_base.f_count_16e3dc5533
COALESCE(f.f_count_16e3dc5533, 0)

-- sw_base.f_count_c56f52ba4c
COALESCE(f.f_count_c56f52ba4c, 0)

-- sw_base.f_count_e3616be267
COALESCE(f.f_count_e3616be267, 0)

-- sw_base.f_count_ac5d984d06
COALESCE(f.f_count_ac5d984d06, 0)

-- sw_base.f_count_f7597f4b4a
COALESCE(f.f_count_f7597f4b4a, 0)

-- sw_base.f_count_d77eda7bf0
COALESCE(f.f_count_d77eda7bf0, 0)

-- sw_base.f_count_9658bace3d
COALESCE(f.f_count_9658bace3d, 0)

-- sw_base.f_count_e91b73516a
COALESCE(f.f_count_e91b73516a, 0)

-- sw_base.f_count_2671cd63bd
COALESCE(f.f_count_2671cd63bd, 0)

-- sw_layer_1
SELECT
  *,
  COALESCE(f_count_4468a2df01 >= 1, FALSE)
  OR COALESCE(f_count_70788bbbaa >= 1, FALSE)
  OR COALESCE(f_count_16e3dc5533 >= 1, FALSE)
  OR COALESCE(f_count_c56f52ba4c >= 1, FALSE)
  OR COALESCE(f_count_e3616be267 >= 1, FALSE)
  OR COALESCE(f_count_ac5d984d06 >= 1, FALSE)
  OR COALESCE(f_count_f7597f4b4a >= 1, FALSE)
  OR COALESCE(f_count_d77eda7bf0 >= 1, FALSE)
  OR COALESCE(f_count_9658bace3d >= 1, FALSE)
  OR COALESCE(f_count_e91b73516a >= 1, FALSE)
  OR COALESCE(f_count_2671cd63bd >= 1, FALSE) AS s_property_string
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS TEXT) AS variant
FROM sw_layer_1
WHERE
  s_property_string
