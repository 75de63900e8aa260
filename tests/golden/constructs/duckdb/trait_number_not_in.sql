-- sw_users.t_ltv
CAST(u.lifetime_value AS DOUBLE)

-- sw_layer_1
SELECT
  *,
  COALESCE(NOT t_ltv IN (0, 12.5), TRUE) AS s_trait_number_not_in
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS TEXT) AS variant
FROM sw_layer_1
WHERE
  s_trait_number_not_in
