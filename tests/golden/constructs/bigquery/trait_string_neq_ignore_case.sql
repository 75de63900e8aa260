-- sw_users.t_country
CAST(u.country AS STRING)

-- sw_layer_1
SELECT
  *,
  COALESCE(LOWER(t_country) <> LOWER('DE'), TRUE) AS s_trait_string_neq_ignore_case
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS STRING) AS variant
FROM sw_layer_1
WHERE
  s_trait_string_neq_ignore_case
