-- sw_events.p_product_id
CASE
  WHEN e.event_name = 'product_viewed'
  THEN JSON_EXTRACT_SCALAR(e.properties, '$.product_id')
END

-- sw_features.f_count_96e69a1276
COUNT(
  CASE
    WHEN event_name = 'product_viewed'
    AND COALESCE(LOWER(p_product_id) = LOWER('SKU-1'), FALSE)
    THEN 1
  END
)

-- sw_features.f_count_79e7cdd471
COUNT(
  CASE
    WHEN event_name = 'product_viewed'
    AND COALESCE(LOWER(p_product_id) <> LOWER('SKU-1'), TRUE)
    THEN 1
  END
)

-- sw_features.f_count_b4594b3de6
COUNT(
  CASE
    WHEN event_name = 'product_viewed'
    AND COALESCE(LOWER(p_product_id) IN (LOWER('SKU-1'), LOWER('Sku-2')), FALSE)
    THEN 1
  END
)

-- sw_features.f_count_4390ffe970
COUNT(
  CASE
    WHEN event_name = 'product_viewed'
    AND COALESCE(NOT LOWER(p_product_id) IN (LOWER('SKU-1')), TRUE)
    THEN 1
  END
)

-- sw_features.f_count_797a89008e
COUNT(
  CASE
    WHEN event_name = 'product_viewed'
    AND COALESCE(INSTR(LOWER(p_product_id), LOWER('KU')) > 0, FALSE)
    THEN 1
  END
)

-- sw_features.f_count_4fc3480cff
COUNT(
  CASE
    WHEN event_name = 'product_viewed'
    AND COALESCE(NOT INSTR(LOWER(p_product_id), LOWER('KU')) > 0, TRUE)
    THEN 1
  END
)

-- sw_features.f_count_9c80b725c5
COUNT(
  CASE
    WHEN event_name = 'product_viewed'
    AND COALESCE(LEFT(LOWER(p_product_id), LENGTH(LOWER('SKU'))) = LOWER('SKU'), FALSE)
    THEN 1
  END
)

-- sw_features.f_count_e681f3105a
COUNT(
  CASE
    WHEN event_name = 'product_viewed'
    AND COALESCE(RIGHT(LOWER(p_product_id), LENGTH(LOWER('-X'))) = LOWER('-X'), FALSE)
    THEN 1
  END
)

-- sw_base.f_count_96e69a1276
COALESCE(f.f_count_96e69a1276, 0)

-- sw_base.f_count_79e7cdd471
COALESCE(f.f_count_79e7cdd471, 0)

-- sw_base.f_count_b4594b3de6
COALESCE(f.f_count_b4594b3de6, 0)

-- sw_base.f_count_4390ffe970
COALESCE(f.f_count_4390ffe970, 0)

-- sw_base.f_count_797a89008e
COALESCE(f.f_count_797a89008e, 0)

-- sw_base.f_count_4fc3480cff
COALESCE(f.f_count_4fc3480cff, 0)

-- sw_base.f_count_9c80b725c5
COALESCE(f.f_count_9c80b725c5, 0)

-- sw_base.f_count_e681f3105a
COALESCE(f.f_count_e681f3105a, 0)

-- sw_layer_1
SELECT
  *,
  COALESCE(f_count_96e69a1276 >= 1, FALSE)
  OR COALESCE(f_count_79e7cdd471 >= 1, FALSE)
  OR COALESCE(f_count_b4594b3de6 >= 1, FALSE)
  OR COALESCE(f_count_4390ffe970 >= 1, FALSE)
  OR COALESCE(f_count_797a89008e >= 1, FALSE)
  OR COALESCE(f_count_4fc3480cff >= 1, FALSE)
  OR COALESCE(f_count_9c80b725c5 >= 1, FALSE)
  OR COALESCE(f_count_e681f3105a >= 1, FALSE) AS s_property_string_ignore_case
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS STRING) AS variant
FROM sw_layer_1
WHERE
  s_property_string_ignore_case
