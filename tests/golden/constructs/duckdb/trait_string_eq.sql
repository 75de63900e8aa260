-- sw_users.t_plan
CAST(u.plan AS TEXT)

-- sw_layer_1
SELECT
  *,
  COALESCE(t_plan = 'pro', FALSE) AS s_trait_string_eq
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS TEXT) AS variant
FROM sw_layer_1
WHERE
  s_trait_string_eq
