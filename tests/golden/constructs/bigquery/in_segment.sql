-- sw_users.t_plan
CAST(u.plan AS STRING)

-- sw_layer_1
SELECT
  *,
  COALESCE(t_plan = 'pro', FALSE) AS s_trait_string_eq
FROM sw_base

-- sw_layer_2
SELECT
  *,
  s_trait_string_eq AS s_in_segment
FROM sw_layer_1

-- final
SELECT
  user_id,
  CAST(NULL AS STRING) AS variant
FROM sw_layer_2
WHERE
  s_in_segment
