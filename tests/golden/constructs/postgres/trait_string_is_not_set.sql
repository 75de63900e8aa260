-- sw_users.t_country
CAST(u.country AS TEXT)

-- sw_layer_1
SELECT
  *,
  t_country IS NULL AS s_trait_string_is_not_set
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS TEXT) AS variant
FROM sw_layer_1
WHERE
  s_trait_string_is_not_set
