-- sw_seq_0
SELECT
  user_key,
  ts,
  MAX(CASE WHEN event_name = 'order_completed' THEN 1 ELSE 0 END) AS q0_m0
FROM sw_events
WHERE
  (
    event_name = 'order_completed'
  )
  AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '30' DAY
GROUP BY
  user_key,
  ts

-- sw_seq_1
SELECT
  user_key,
  ts,
  q0_m0,
  CASE
    WHEN q0_m0 = 1 AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '30' DAY
    THEN 1
    ELSE 0
  END AS q0_v0
FROM sw_seq_0

-- sw_sequences
SELECT
  CAST(user_key AS STRING) AS user_id,
  MAX(q0_v0) AS q_9a6f31ef2b
FROM sw_seq_1
GROUP BY
  user_key

-- sw_layer_1
SELECT
  *,
  q_9a6f31ef2b = 1 AS s_sequence_one_step
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS STRING) AS variant
FROM sw_layer_1
WHERE
  s_sequence_one_step
