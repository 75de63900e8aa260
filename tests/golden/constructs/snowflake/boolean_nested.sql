-- sw_users.t_plan
CAST(u.plan AS VARCHAR)

-- sw_users.t_country
CAST(u.country AS VARCHAR)

-- sw_users.t_is_beta
CAST(u.is_beta AS BOOLEAN)

-- sw_features.f_count_ffa2bf9d4f
COUNT(
  CASE
    WHEN event_name = 'order_completed'
    AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMPNTZ) - INTERVAL '7 DAY'
    THEN 1
  END
)

-- sw_base.f_count_ffa2bf9d4f
COALESCE(f.f_count_ffa2bf9d4f, 0)

-- sw_layer_1
SELECT
  *,
  (
    COALESCE(t_plan IN ('enterprise', 'pro'), FALSE)
    AND NOT (
      COALESCE(t_country = 'DE', FALSE) OR COALESCE(t_is_beta = TRUE, FALSE)
    )
  )
  OR NOT NOT COALESCE(f_count_ffa2bf9d4f >= 2, FALSE) AS s_boolean_nested
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS VARCHAR) AS variant
FROM sw_layer_1
WHERE
  s_boolean_nested
