-- sw_users.t_plan
CAST(u.plan AS VARCHAR)

-- sw_layer_1
SELECT
  *,
  COALESCE(
    (REGEXP_INSTR(t_plan, '^(pro|team)_\\d{2,3}[a-z]?$|\\s\\w+\\.[^x-z]*$') > 0),
    FALSE
  ) AS s_trait_string_matches
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS VARCHAR) AS variant
FROM sw_layer_1
WHERE
  s_trait_string_matches
