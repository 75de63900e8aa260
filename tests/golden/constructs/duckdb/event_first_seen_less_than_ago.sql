-- sw_features.f_first_seen_13b618e838
MIN(CASE WHEN event_name = 'order_completed' THEN ts END)

-- sw_layer_1
SELECT
  *,
  COALESCE(
    f_first_seen_13b618e838 > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '7' DAY
    AND f_first_seen_13b618e838 <= CAST('2025-06-01 00:00:00' AS TIMESTAMP),
    FALSE
  ) AS s_event_first_seen_less_than_ago
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS TEXT) AS variant
FROM sw_layer_1
WHERE
  s_event_first_seen_less_than_ago
