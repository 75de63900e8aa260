-- sw_features.f_last_seen_18697ec51d
MAX(CASE WHEN event_name = 'app_opened' THEN ts END)

-- sw_layer_1
SELECT
  *,
  COALESCE(
    f_last_seen_18697ec51d > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '30 SECOND'
    AND f_last_seen_18697ec51d <= CAST('2025-06-01 00:00:00' AS TIMESTAMP),
    FALSE
  ) AS s_event_last_seen_less_than_ago
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS TEXT) AS variant
FROM sw_layer_1
WHERE
  s_event_last_seen_less_than_ago
