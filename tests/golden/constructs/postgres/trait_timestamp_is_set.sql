-- sw_users.t_signup_at
CAST(u.signup_at AS TIMESTAMP)

-- sw_layer_1
SELECT
  *,
  NOT t_signup_at IS NULL AS s_trait_timestamp_is_set
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS TEXT) AS variant
FROM sw_layer_1
WHERE
  s_trait_timestamp_is_set
