-- sw_users.t_plan
CAST(u.plan AS TEXT)

-- sw_layer_1
SELECT
  *,
  COALESCE(NOT POSITION('trial' IN t_plan) > 0, TRUE) AS s_trait_string_not_contains
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS TEXT) AS variant
FROM sw_layer_1
WHERE
  s_trait_string_not_contains
