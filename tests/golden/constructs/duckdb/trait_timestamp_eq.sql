-- sw_users.t_signup_at
CAST(u.signup_at AS TIMESTAMP)

-- sw_layer_1
SELECT
  *,
  COALESCE(t_signup_at = CAST('2025-01-31 08:00:00' AS TIMESTAMP), FALSE) AS s_trait_timestamp_eq
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS TEXT) AS variant
FROM sw_layer_1
WHERE
  s_trait_timestamp_eq
