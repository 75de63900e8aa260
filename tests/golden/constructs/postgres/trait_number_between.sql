-- sw_users.t_ltv
CAST(u.lifetime_value AS DOUBLE PRECISION)

-- sw_layer_1
SELECT
  *,
  COALESCE(t_ltv BETWEEN 10 AND 250.5, FALSE) AS s_trait_number_between
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS TEXT) AS variant
FROM sw_layer_1
WHERE
  s_trait_number_between
