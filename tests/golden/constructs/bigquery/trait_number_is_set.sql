-- sw_users.t_ltv
CAST(u.lifetime_value AS FLOAT64)

-- sw_layer_1
SELECT
  *,
  NOT t_ltv IS NULL AS s_trait_number_is_set
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS STRING) AS variant
FROM sw_layer_1
WHERE
  s_trait_number_is_set
