-- sw_users.t_plan
CAST(u.plan AS TEXT)

-- sw_features.f_count_fd4a303641
COUNT(
  CASE
    WHEN event_name = 'order_completed'
    AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '30' DAY
    THEN 1
  END
)

-- sw_base.f_count_fd4a303641
COALESCE(f.f_count_fd4a303641, 0)

-- sw_layer_1
SELECT
  *,
  COALESCE(t_plan = 'pro', FALSE) AS s_trait_string_eq,
  NOT COALESCE(f_count_fd4a303641 >= 1, FALSE) AS s_boolean_not_event
FROM sw_base

-- sw_layer_2
SELECT
  *,
  s_trait_string_eq AS s_in_segment
FROM sw_layer_1

-- sw_layer_3
SELECT
  *,
  s_in_segment AND NOT s_boolean_not_event AS s_in_segment_chain
FROM sw_layer_2

-- final
SELECT
  user_id,
  CAST(NULL AS TEXT) AS variant
FROM sw_layer_3
WHERE
  s_in_segment_chain
