-- sw_users.t_trial_ends_at
CAST(u.trial_ends_at AS TIMESTAMP)

-- sw_layer_1
SELECT
  *,
  COALESCE(
    t_trial_ends_at >= CAST('2025-06-01 00:00:00' AS TIMESTAMP)
    AND t_trial_ends_at < CAST('2025-06-01 00:00:00' AS TIMESTAMP) + INTERVAL '3' DAY,
    FALSE
  ) AS s_trait_timestamp_in_next
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS STRING) AS variant
FROM sw_layer_1
WHERE
  s_trait_timestamp_in_next
