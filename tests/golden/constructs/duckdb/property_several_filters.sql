-- sw_events.p_amount
CASE
  WHEN e.event_name = 'order_completed'
  AND CAST(e.occurred_at AS TIMESTAMP) > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '30' DAY
  THEN CASE
    WHEN REGEXP_MATCHES(
      JSON_EXTRACT_STRING(e.properties, '$.amount'),
      '^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$'
    )
    THEN CAST(JSON_EXTRACT_STRING(e.properties, '$.amount') AS DOUBLE)
  END
END

-- sw_events.p_is_gift
CASE
  WHEN e.event_name = 'order_completed'
  AND CAST(e.occurred_at AS TIMESTAMP) > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '30' DAY
  THEN CASE
    WHEN LOWER(JSON_EXTRACT_STRING(e.properties, '$.is_gift')) IN ('true', 'false')
    THEN CAST(JSON_EXTRACT_STRING(e.properties, '$.is_gift') AS BOOLEAN)
  END
END

-- sw_events.p_product_id
CASE
  WHEN e.event_name = 'order_completed'
  AND CAST(e.occurred_at AS TIMESTAMP) > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '30' DAY
  THEN JSON_EXTRACT_STRING(e.properties, '$.product_id')
END

-- sw_features.f_count_c1f4885641
COUNT(
  CASE
    WHEN event_name = 'order_completed'
    AND COALESCE(p_amount >= 10, FALSE)
    AND COALESCE(p_is_gift = FALSE, FALSE)
    AND COALESCE(LEFT(p_product_id, LENGTH('sku-')) = 'sku-', FALSE)
    AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '30' DAY
    THEN 1
  END
)

-- sw_base.f_count_c1f4885641
COALESCE(f.f_count_c1f4885641, 0)

-- sw_layer_1
SELECT
  *,
  COALESCE(f_count_c1f4885641 >= 2, FALSE) AS s_property_several_filters
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS TEXT) AS variant
FROM sw_layer_1
WHERE
  s_property_several_filters
