-- sw_users.t_is_beta
CAST(u.is_beta AS BOOLEAN)

-- sw_layer_1
SELECT
  *,
  COALESCE(NOT t_is_beta IN (FALSE), TRUE) AS s_trait_boolean_not_in
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS TEXT) AS variant
FROM sw_layer_1
WHERE
  s_trait_boolean_not_in
