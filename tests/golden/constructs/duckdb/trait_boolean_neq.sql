-- sw_users.t_is_beta
CAST(u.is_beta AS BOOLEAN)

-- sw_layer_1
SELECT
  *,
  COALESCE(t_is_beta <> TRUE, TRUE) AS s_trait_boolean_neq
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS TEXT) AS variant
FROM sw_layer_1
WHERE
  s_trait_boolean_neq
