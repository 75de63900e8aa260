-- sw_users.t_signup_at
CAST(u.signup_at AS TIMESTAMP)

-- sw_layer_1
SELECT
  *,
  COALESCE(
    NOT t_signup_at IN (
      CAST('2024-12-01 00:00:00' AS TIMESTAMP),
      CAST('2025-01-31 08:00:00' AS TIMESTAMP)
    ),
    TRUE
  ) AS s_trait_timestamp_not_in
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS TEXT) AS variant
FROM sw_layer_1
WHERE
  s_trait_timestamp_not_in
