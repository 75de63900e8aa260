-- sw_users.t_plan
CAST(u.plan AS VARCHAR)

-- sw_layer_1
SELECT
  *,
  NOT COALESCE(t_plan = 'pro', FALSE) AS s_boolean_not
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS VARCHAR) AS variant
FROM sw_layer_1
WHERE
  s_boolean_not
