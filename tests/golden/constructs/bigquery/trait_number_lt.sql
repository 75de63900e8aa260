-- sw_users.t_ltv
CAST(u.lifetime_value AS FLOAT64)

-- sw_layer_1
SELECT
  *,
  COALESCE(t_ltv < -0.5, FALSE) AS s_trait_number_lt
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS STRING) AS variant
FROM sw_layer_1
WHERE
  s_trait_number_lt
