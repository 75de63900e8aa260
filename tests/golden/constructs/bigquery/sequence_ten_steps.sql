-- sw_seq_0
SELECT
  user_key,
  ts,
  MAX(CASE WHEN event_name = 's1' THEN 1 ELSE 0 END) AS q0_m0,
  MAX(CASE WHEN event_name = 's2' THEN 1 ELSE 0 END) AS q0_m1,
  MAX(CASE WHEN event_name = 's3' THEN 1 ELSE 0 END) AS q0_m2,
  MAX(CASE WHEN event_name = 's4' THEN 1 ELSE 0 END) AS q0_m3,
  MAX(CASE WHEN event_name = 's5' THEN 1 ELSE 0 END) AS q0_m4,
  MAX(CASE WHEN event_name = 's6' THEN 1 ELSE 0 END) AS q0_m5,
  MAX(CASE WHEN event_name = 's7' THEN 1 ELSE 0 END) AS q0_m6,
  MAX(CASE WHEN event_name = 's8' THEN 1 ELSE 0 END) AS q0_m7,
  MAX(CASE WHEN event_name = 's9' THEN 1 ELSE 0 END) AS q0_m8,
  MAX(CASE WHEN event_name = 's10' THEN 1 ELSE 0 END) AS q0_m9
FROM sw_events
WHERE
  (
    event_name = 's1'
    OR event_name = 's2'
    OR event_name = 's3'
    OR event_name = 's4'
    OR event_name = 's5'
    OR event_name = 's6'
    OR event_name = 's7'
    OR event_name = 's8'
    OR event_name = 's9'
    OR event_name = 's10'
  )
  AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '14' DAY
GROUP BY
  user_key,
  ts

-- sw_seq_1
SELECT
  user_key,
  ts,
  q0_m0,
  q0_m1,
  q0_m2,
  q0_m3,
  q0_m4,
  q0_m5,
  q0_m6,
  q0_m7,
  q0_m8,
  q0_m9,
  CASE
    WHEN q0_m0 = 1 AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '14' DAY
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
  q0_m2,
  q0_m3,
  q0_m4,
  q0_m5,
  q0_m6,
  q0_m7,
  q0_m8,
  q0_m9,
  q0_v0,
  CASE
    WHEN q0_m1 = 1
    AND NOT MAX(CASE WHEN q0_v0 = 1 THEN ts END) OVER (
      PARTITION BY user_key
      ORDER BY ts ASC
      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
    ) IS NULL
    THEN 1
    ELSE 0
  END AS q0_v1
FROM sw_seq_1
WHERE
  q0_v0 = 1
  OR q0_m1 = 1
  OR q0_m2 = 1
  OR q0_m3 = 1
  OR q0_m4 = 1
  OR q0_m5 = 1
  OR q0_m6 = 1
  OR q0_m7 = 1
  OR q0_m8 = 1
  OR q0_m9 = 1

-- sw_seq_3
SELECT
  user_key,
  ts,
  q0_m0,
  q0_m1,
  q0_m2,
  q0_m3,
  q0_m4,
  q0_m5,
  q0_m6,
  q0_m7,
  q0_m8,
  q0_m9,
  q0_v0,
  q0_v1,
  CASE
    WHEN (
      q0_m2 = 1
      AND NOT MAX(CASE WHEN q0_v1 = 1 THEN ts END) OVER (
        PARTITION BY user_key
        ORDER BY ts ASC
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
      ) IS NULL
    )
    AND MAX(CASE WHEN q0_v1 = 1 THEN ts END) OVER (
      PARTITION BY user_key
      ORDER BY ts ASC
      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
    ) >= ts - INTERVAL '1' MINUTE
    THEN 1
    ELSE 0
  END AS q0_v2
FROM sw_seq_2
WHERE
  q0_v1 = 1
  OR q0_m2 = 1
  OR q0_m3 = 1
  OR q0_m4 = 1
  OR q0_m5 = 1
  OR q0_m6 = 1
  OR q0_m7 = 1
  OR q0_m8 = 1
  OR q0_m9 = 1

-- sw_seq_4
SELECT
  user_key,
  ts,
  q0_m0,
  q0_m1,
  q0_m2,
  q0_m3,
  q0_m4,
  q0_m5,
  q0_m6,
  q0_m7,
  q0_m8,
  q0_m9,
  q0_v0,
  q0_v1,
  q0_v2,
  CASE
    WHEN q0_m3 = 1
    AND NOT MAX(CASE WHEN q0_v2 = 1 THEN ts END) OVER (
      PARTITION BY user_key
      ORDER BY ts ASC
      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
    ) IS NULL
    THEN 1
    ELSE 0
  END AS q0_v3
FROM sw_seq_3
WHERE
  q0_v2 = 1
  OR q0_m3 = 1
  OR q0_m4 = 1
  OR q0_m5 = 1
  OR q0_m6 = 1
  OR q0_m7 = 1
  OR q0_m8 = 1
  OR q0_m9 = 1

-- sw_seq_5
SELECT
  user_key,
  ts,
  q0_m0,
  q0_m1,
  q0_m2,
  q0_m3,
  q0_m4,
  q0_m5,
  q0_m6,
  q0_m7,
  q0_m8,
  q0_m9,
  q0_v0,
  q0_v1,
  q0_v2,
  q0_v3,
  CASE
    WHEN (
      q0_m4 = 1
      AND NOT MAX(CASE WHEN q0_v3 = 1 THEN ts END) OVER (
        PARTITION BY user_key
        ORDER BY ts ASC
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
      ) IS NULL
    )
    AND MAX(CASE WHEN q0_v3 = 1 THEN ts END) OVER (
      PARTITION BY user_key
      ORDER BY ts ASC
      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
    ) >= ts - INTERVAL '1' HOUR
    THEN 1
    ELSE 0
  END AS q0_v4
FROM sw_seq_4
WHERE
  q0_v3 = 1
  OR q0_m4 = 1
  OR q0_m5 = 1
  OR q0_m6 = 1
  OR q0_m7 = 1
  OR q0_m8 = 1
  OR q0_m9 = 1

-- sw_seq_6
SELECT
  user_key,
  ts,
  q0_m0,
  q0_m1,
  q0_m2,
  q0_m3,
  q0_m4,
  q0_m5,
  q0_m6,
  q0_m7,
  q0_m8,
  q0_m9,
  q0_v0,
  q0_v1,
  q0_v2,
  q0_v3,
  q0_v4,
  CASE
    WHEN q0_m5 = 1
    AND NOT MAX(CASE WHEN q0_v4 = 1 THEN ts END) OVER (
      PARTITION BY user_key
      ORDER BY ts ASC
      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
    ) IS NULL
    THEN 1
    ELSE 0
  END AS q0_v5
FROM sw_seq_5
WHERE
  q0_v4 = 1 OR q0_m5 = 1 OR q0_m6 = 1 OR q0_m7 = 1 OR q0_m8 = 1 OR q0_m9 = 1

-- sw_seq_7
SELECT
  user_key,
  ts,
  q0_m0,
  q0_m1,
  q0_m2,
  q0_m3,
  q0_m4,
  q0_m5,
  q0_m6,
  q0_m7,
  q0_m8,
  q0_m9,
  q0_v0,
  q0_v1,
  q0_v2,
  q0_v3,
  q0_v4,
  q0_v5,
  CASE
    WHEN (
      q0_m6 = 1
      AND NOT MAX(CASE WHEN q0_v5 = 1 THEN ts END) OVER (
        PARTITION BY user_key
        ORDER BY ts ASC
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
      ) IS NULL
    )
    AND MAX(CASE WHEN q0_v5 = 1 THEN ts END) OVER (
      PARTITION BY user_key
      ORDER BY ts ASC
      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
    ) >= ts - INTERVAL '1' DAY
    THEN 1
    ELSE 0
  END AS q0_v6
FROM sw_seq_6
WHERE
  q0_v5 = 1 OR q0_m6 = 1 OR q0_m7 = 1 OR q0_m8 = 1 OR q0_m9 = 1

-- sw_seq_8
SELECT
  user_key,
  ts,
  q0_m0,
  q0_m1,
  q0_m2,
  q0_m3,
  q0_m4,
  q0_m5,
  q0_m6,
  q0_m7,
  q0_m8,
  q0_m9,
  q0_v0,
  q0_v1,
  q0_v2,
  q0_v3,
  q0_v4,
  q0_v5,
  q0_v6,
  CASE
    WHEN q0_m7 = 1
    AND NOT MAX(CASE WHEN q0_v6 = 1 THEN ts END) OVER (
      PARTITION BY user_key
      ORDER BY ts ASC
      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
    ) IS NULL
    THEN 1
    ELSE 0
  END AS q0_v7
FROM sw_seq_7
WHERE
  q0_v6 = 1 OR q0_m7 = 1 OR q0_m8 = 1 OR q0_m9 = 1

-- sw_seq_9
SELECT
  user_key,
  ts,
  q0_m0,
  q0_m1,
  q0_m2,
  q0_m3,
  q0_m4,
  q0_m5,
  q0_m6,
  q0_m7,
  q0_m8,
  q0_m9,
  q0_v0,
  q0_v1,
  q0_v2,
  q0_v3,
  q0_v4,
  q0_v5,
  q0_v6,
  q0_v7,
  CASE
    WHEN (
      q0_m8 = 1
      AND NOT MAX(CASE WHEN q0_v7 = 1 THEN ts END) OVER (
        PARTITION BY user_key
        ORDER BY ts ASC
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
      ) IS NULL
    )
    AND MAX(CASE WHEN q0_v7 = 1 THEN ts END) OVER (
      PARTITION BY user_key
      ORDER BY ts ASC
      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
    ) >= ts - INTERVAL '7' DAY
    THEN 1
    ELSE 0
  END AS q0_v8
FROM sw_seq_8
WHERE
  q0_v7 = 1 OR q0_m8 = 1 OR q0_m9 = 1

-- sw_seq_10
SELECT
  user_key,
  ts,
  q0_m0,
  q0_m1,
  q0_m2,
  q0_m3,
  q0_m4,
  q0_m5,
  q0_m6,
  q0_m7,
  q0_m8,
  q0_m9,
  q0_v0,
  q0_v1,
  q0_v2,
  q0_v3,
  q0_v4,
  q0_v5,
  q0_v6,
  q0_v7,
  q0_v8,
  CASE
    WHEN q0_v8 = 1
    AND ts + INTERVAL '30' SECOND <= CAST('2025-06-01 00:00:00' AS TIMESTAMP)
    AND (
      MIN(CASE WHEN q0_m9 = 1 THEN ts END) OVER (
        PARTITION BY user_key
        ORDER BY ts ASC
        ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING
      ) IS NULL
      OR MIN(CASE WHEN q0_m9 = 1 THEN ts END) OVER (
        PARTITION BY user_key
        ORDER BY ts ASC
        ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING
      ) > ts + INTERVAL '30' SECOND
    )
    THEN 1
    ELSE 0
  END AS q0_v9
FROM sw_seq_9
WHERE
  q0_v8 = 1 OR q0_m9 = 1

-- sw_sequences
SELECT
  CAST(user_key AS STRING) AS user_id,
  MAX(q0_v9) AS q_9a88e3262a
FROM sw_seq_10
GROUP BY
  user_key

-- sw_layer_1
SELECT
  *,
  q_9a88e3262a = 1 AS s_sequence_ten_steps
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS STRING) AS variant
FROM sw_layer_1
WHERE
  s_sequence_ten_steps
