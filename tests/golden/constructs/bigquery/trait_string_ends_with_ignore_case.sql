-- sw_users.t_plan
CAST(u.plan AS STRING)

-- sw_layer_1
SELECT
  *,
  COALESCE(RIGHT(LOWER(t_plan), LENGTH(LOWER('_Annual'))) = LOWER('_Annual'), FALSE) AS s_trait_string_ends_with_ignore_case
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS STRING) AS variant
FROM sw_layer_1
WHERE
  s_trait_string_ends_with_ignore_case
