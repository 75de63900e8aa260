-- sw_users.t_is_beta
CAST(u.is_beta AS BOOL)

-- sw_layer_1
SELECT
  *,
  COALESCE(t_is_beta IN (TRUE), FALSE) AS s_trait_boolean_in
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS STRING) AS variant
FROM sw_layer_1
WHERE
  s_trait_boolean_in
