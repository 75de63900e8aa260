-- sw_events.p_product_id
CAST(e.product_id AS VARCHAR)

-- sw_features.f_count_distinct_64f9e74767
COUNT(DISTINCT CASE WHEN event_name = 'product_viewed' THEN p_product_id END)

-- sw_base.f_count_distinct_64f9e74767
COALESCE(f.f_count_distinct_64f9e74767, 0)

-- sw_layer_1
SELECT
  *,
  COALESCE(f_count_distinct_64f9e74767 >= 3, FALSE) AS s_event_count_distinct
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS VARCHAR) AS variant
FROM sw_layer_1
WHERE
  s_event_count_distinct
