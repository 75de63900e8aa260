-- sw_users.t_plan
CAST(u.plan AS TEXT)

-- sw_layer_1
SELECT
  *,
  COALESCE(LEFT(LOWER(t_plan), LENGTH(LOWER('Pro'))) = LOWER('Pro'), FALSE) AS s_trait_string_starts_with_ignore_case
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS TEXT) AS variant
FROM sw_layer_1
WHERE
  s_trait_string_starts_with_ignore_case
