-- sw_events.p_amount
CAST(e.amount_value AS DOUBLE)

-- sw_events.p_is_gift
CAST(e.gift AS BOOLEAN)

-- sw_events.p_product_id
CAST(e.product_id AS VARCHAR)

-- sw_features.f_count_c1f4885641
COUNT(
  CASE
    WHEN event_name = 'order_completed'
    AND COALESCE(p_amount >= 10, FALSE)
    AND COALESCE(p_is_gift = FALSE, FALSE)
    AND COALESCE(LEFT(p_product_id, LENGTH('sku-')) = 'sku-', FALSE)
    AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMPNTZ) - INTERVAL '30 DAY'
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
  CAST(NULL AS VARCHAR) AS variant
FROM sw_layer_1
WHERE
  s_property_several_filters
