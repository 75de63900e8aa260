-- sw_users.t_ltv
CAST(u.lifetime_value AS DOUBLE)

-- sw_layer_1
SELECT
  *,
  COALESCE(t_ltv <> 100, TRUE) AS s_trait_number_neq
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS TEXT) AS variant
FROM sw_layer_1
WHERE
  s_trait_number_neq
