WITH sw_users AS (
  SELECT
    CAST(u.user_id AS TEXT) AS user_id
  FROM demo_users AS u
  WHERE
    NOT u.user_id IS NULL
), sw_events AS (
  SELECT
    user_key,
    event_name,
    ts
  FROM (
    SELECT
      user_key,
      event_name,
      ts
    FROM (
      SELECT
        e.user_id AS user_key,
        e.event_name AS event_name,
        CAST(e.occurred_at AS TIMESTAMP) AS ts,
        ROW_NUMBER() OVER (PARTITION BY e.user_id, e.event_id ORDER BY CAST(e.occurred_at AS TIMESTAMP) ASC) AS sw_copy
      FROM demo_events AS e
      WHERE
        (
          NOT e.user_id IS NULL
          AND CAST(e.occurred_at AS TIMESTAMP) <= CAST('2025-06-01 00:00:00' AS TIMESTAMP)
        )
        AND NOT e.event_id IS NULL
    ) AS d
    WHERE
      sw_copy = 1
    UNION ALL
    SELECT
      e.user_id AS user_key,
      e.event_name AS event_name,
      CAST(e.occurred_at AS TIMESTAMP) AS ts
    FROM demo_events AS e
    WHERE
      (
        NOT e.user_id IS NULL
        AND CAST(e.occurred_at AS TIMESTAMP) <= CAST('2025-06-01 00:00:00' AS TIMESTAMP)
      )
      AND e.event_id IS NULL
  ) AS sw_deduplicated
), sw_seen AS (
  SELECT
    CAST(user_key AS TEXT) AS user_id
  FROM sw_events
  GROUP BY
    user_key
), sw_seq_0 AS (
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
    AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '7 DAY'
  GROUP BY
    user_key,
    ts
), sw_seq_1 AS (
  SELECT
    user_key,
    ts,
    q0_m0,
    q0_m1,
    CASE
      WHEN q0_m0 = 1 AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '7 DAY'
      THEN 1
      ELSE 0
    END AS q0_v0
  FROM sw_seq_0
), sw_seq_2 AS (
  SELECT
    user_key,
    ts,
    q0_m0,
    q0_m1,
    q0_v0,
    CASE
      WHEN q0_v0 = 1
      AND ts + INTERVAL '2 MINUTE' <= CAST('2025-06-01 00:00:00' AS TIMESTAMP)
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
), sw_sequences AS (
  SELECT
    CAST(user_key AS TEXT) AS user_id,
    MAX(q0_v1) AS q_72da1c906f
  FROM sw_seq_2
  GROUP BY
    user_key
), sw_base AS (
  SELECT
    ids.user_id,
    COALESCE(q.q_72da1c906f, 0) AS q_72da1c906f
  FROM (
    SELECT
      user_id
    FROM sw_users
    UNION
    SELECT
      user_id
    FROM sw_seen
  ) AS ids
  LEFT JOIN sw_users AS u
    ON u.user_id = ids.user_id
  LEFT JOIN sw_seen AS a
    ON a.user_id = ids.user_id
  LEFT JOIN sw_sequences AS q
    ON q.user_id = ids.user_id
), sw_layer_1 AS (
  SELECT
    *,
    q_72da1c906f = 1 AS s_checkout_abandoners
  FROM sw_base
)
SELECT
  user_id,
  CAST(NULL AS TEXT) AS variant
FROM sw_layer_1
WHERE
  s_checkout_abandoners;
