-- sw_users.t_country
CAST(u.country AS VARCHAR)

-- sw_layer_1
SELECT
  *,
  NOT t_country IS NULL AS s_trait_string_is_set
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS VARCHAR) AS variant
FROM sw_layer_1
WHERE
  s_trait_string_is_set
