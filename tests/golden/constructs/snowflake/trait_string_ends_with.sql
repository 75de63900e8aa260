-- sw_users.t_plan
CAST(u.plan AS VARCHAR)

-- sw_layer_1
SELECT
  *,
  COALESCE(RIGHT(t_plan, LENGTH('_annual')) = '_annual', FALSE) AS s_trait_string_ends_with
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS VARCHAR) AS variant
FROM sw_layer_1
WHERE
  s_trait_string_ends_with
