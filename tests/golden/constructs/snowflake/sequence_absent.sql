-- sw_seq_0
SELECT
  user_key,
  ts,
  MAX(CASE WHEN event_name = 'checkout_viewed' THEN 1 ELSE 0 END) AS q0_m0,
  MAX(CASE WHEN event_name = 'order_completed' THEN 1 ELSE 0 END) AS q0_m1
FROM sw_events
WHERE
  (
    event_name = 'checkout_viewed' OR event_name = 'order_completed'
  )
  AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMPNTZ) - INTERVAL '7 DAY'
GROUP BY
  user_key,
  ts

-- sw_seq_1
SELECT
  user_key,
  ts,
  q0_m0,
  q0_m1,
  CASE
    WHEN q0_m0 = 1 AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMPNTZ) - INTERVAL '7 DAY'
    THEN 1
    ELSE 0
  END AS q0_v0
FROM sw_seq_0

-- sw_seq_2
SELECT
  user_key,
  ts,
  q0_m0,
  q0_m1,
  q0_v0,
  CASE
    WHEN q0_v0 = 1
    AND ts + INTERVAL '2 MINUTE' <= CAST('2025-06-01 00:00:00' AS TIMESTAMPNTZ)
    AND (
      MIN(CASE WHEN q0_m1 = 1 THEN ts END) OVER (
        PARTITION BY user_key
        ORDER BY ts ASC
        ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING
      ) IS NULL
      OR MIN(CASE WHEN q0_m1 = 1 THEN ts END) OVER (
        PARTITION BY user_key
        ORDER BY ts ASC
        ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING
      ) > ts + INTERVAL '2 MINUTE'
    )
    THEN 1
    ELSE 0
  END AS q0_v1
FROM sw_seq_1
WHERE
  q0_v0 = 1 OR q0_m1 = 1

-- sw_sequences
SELECT
  CAST(user_key AS VARCHAR) AS user_id,
  MAX(q0_v1) AS q_72da1c906f
FROM sw_seq_2
GROUP BY
  user_key

-- sw_layer_1
SELECT
  *,
  q_72da1c906f = 1 AS s_sequence_absent
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS VARCHAR) AS variant
FROM sw_layer_1
WHERE
  s_sequence_absent
