-- sw_users.t_country
CAST(u.country AS VARCHAR)

-- sw_layer_1
SELECT
  *,
  COALESCE(LOWER(t_country) IN (LOWER('At'), LOWER('DE')), FALSE) AS s_trait_string_in_ignore_case
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS VARCHAR) AS variant
FROM sw_layer_1
WHERE
  s_trait_string_in_ignore_case
