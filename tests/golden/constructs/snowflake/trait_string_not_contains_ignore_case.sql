-- sw_users.t_plan
CAST(u.plan AS VARCHAR)

-- sw_layer_1
SELECT
  *,
  COALESCE(NOT CHARINDEX(LOWER('PRO'), LOWER(t_plan)) > 0, TRUE) AS s_trait_string_not_contains_ignore_case
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS VARCHAR) AS variant
FROM sw_layer_1
WHERE
  s_trait_string_not_contains_ignore_case
