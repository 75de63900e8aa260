-- sw_users.t_signup_at
CAST(u.signup_at AS TIMESTAMPNTZ)

-- sw_layer_1
SELECT
  *,
  COALESCE(
    t_signup_at IN (
      CAST('2025-01-31 00:00:00' AS TIMESTAMPNTZ),
      CAST('2025-02-28 23:59:59' AS TIMESTAMPNTZ)
    ),
    FALSE
  ) AS s_trait_timestamp_in
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS VARCHAR) AS variant
FROM sw_layer_1
WHERE
  s_trait_timestamp_in
