-- sw_users.t_country
CAST(u.country AS VARCHAR)

-- sw_layer_1
SELECT
  *,
  COALESCE(NOT LOWER(t_country) IN (LOWER('At'), LOWER('DE')), TRUE) AS s_trait_string_not_in_ignore_case
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS VARCHAR) AS variant
FROM sw_layer_1
WHERE
  s_trait_string_not_in_ignore_case
