-- sw_users.t_plan
CAST(u.plan AS TEXT)

-- sw_layer_1
SELECT
  *,
  COALESCE(NOT POSITION(LOWER('PRO') IN LOWER(t_plan)) > 0, TRUE) AS s_trait_string_not_contains_ignore_case
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS TEXT) AS variant
FROM sw_layer_1
WHERE
  s_trait_string_not_contains_ignore_case
