-- sw_users.t_plan
CAST(u.plan AS VARCHAR)

-- sw_layer_1
SELECT
  *,
  COALESCE(CHARINDEX('o\'b', t_plan) > 0, FALSE) AS s_trait_string_contains
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS VARCHAR) AS variant
FROM sw_layer_1
WHERE
  s_trait_string_contains
