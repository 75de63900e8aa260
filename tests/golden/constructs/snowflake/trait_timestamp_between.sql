-- sw_users.t_signup_at
CAST(u.signup_at AS TIMESTAMPNTZ)

-- sw_layer_1
SELECT
  *,
  COALESCE(
    t_signup_at BETWEEN CAST('2025-01-01 00:00:00' AS TIMESTAMPNTZ) AND CAST('2025-03-31 23:59:59' AS TIMESTAMPNTZ),
    FALSE
  ) AS s_trait_timestamp_between
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS VARCHAR) AS variant
FROM sw_layer_1
WHERE
  s_trait_timestamp_between
