-- sw_users.t_ltv
CAST(u.lifetime_value AS DOUBLE PRECISION)

-- sw_layer_1
SELECT
  *,
  COALESCE(t_ltv >= 100, FALSE) AS s_trait_number_gte
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS TEXT) AS variant
FROM sw_layer_1
WHERE
  s_trait_number_gte
