-- sw_users.t_signup_at
CAST(u.signup_at AS TIMESTAMP)

-- sw_layer_1
SELECT
  *,
  COALESCE(t_signup_at <= CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '30' DAY, FALSE) AS s_trait_timestamp_more_than_ago
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS TEXT) AS variant
FROM sw_layer_1
WHERE
  s_trait_timestamp_more_than_ago
