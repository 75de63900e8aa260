WITH sw_users AS (
  SELECT
    CAST(u.user_id AS TEXT) AS user_id,
    CAST(u.signup_at AS TIMESTAMP) AS t_signup_at
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
    CAST(user_key AS TEXT) AS user_id,
    MAX(ts) AS f_last_seen_23f1a17008
  FROM sw_events
  GROUP BY
    user_key
), sw_features AS (
  SELECT
    CAST(user_key AS TEXT) AS user_id,
    COUNT(CASE WHEN event_name = 'order_completed' THEN 1 END) AS f_count_7c6e1b6459,
    COUNT(
      CASE
        WHEN event_name = 'order_completed'
        AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '90' DAY
        THEN 1
      END
    ) AS f_count_7c77b8d158
  FROM sw_events
  WHERE
    event_name = 'order_completed'
  GROUP BY
    user_key
), sw_base AS (
  SELECT
    ids.user_id,
    u.t_signup_at,
    a.f_last_seen_23f1a17008 AS f_last_seen_23f1a17008,
    COALESCE(f.f_count_7c6e1b6459, 0) AS f_count_7c6e1b6459,
    COALESCE(f.f_count_7c77b8d158, 0) AS f_count_7c77b8d158
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
  LEFT JOIN sw_features AS f
    ON f.user_id = ids.user_id
), sw_layer_1 AS (
  SELECT
    *,
    COALESCE(t_signup_at <= CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '30' DAY, FALSE) AS s_established_users,
    COALESCE(
      f_last_seen_23f1a17008 <= CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '14' DAY,
      FALSE
    ) AS s_dormant_14d,
    COALESCE(f_count_7c6e1b6459 >= 1, FALSE)
    AND COALESCE(f_count_7c77b8d158 = 0, FALSE)
    AND COALESCE(
      f_last_seen_23f1a17008 <= CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '30' DAY,
      FALSE
    ) AS s_churned
  FROM sw_base
), sw_layer_2 AS (
  SELECT
    *,
    s_established_users AND s_dormant_14d AND NOT s_churned AS s_winback_campaign
  FROM sw_layer_1
)
SELECT
  user_id,
  CASE
    WHEN (
      CAST(STRPOS('0123456789abcdef', SUBSTRING(MD5('winback_campaign:' || user_id), 1, 1)) - 1 AS BIGINT) * 268435456 + CAST(STRPOS('0123456789abcdef', SUBSTRING(MD5('winback_campaign:' || user_id), 2, 1)) - 1 AS BIGINT) * 16777216 + CAST(STRPOS('0123456789abcdef', SUBSTRING(MD5('winback_campaign:' || user_id), 3, 1)) - 1 AS BIGINT) * 1048576 + CAST(STRPOS('0123456789abcdef', SUBSTRING(MD5('winback_campaign:' || user_id), 4, 1)) - 1 AS BIGINT) * 65536 + CAST(STRPOS('0123456789abcdef', SUBSTRING(MD5('winback_campaign:' || user_id), 5, 1)) - 1 AS BIGINT) * 4096 + CAST(STRPOS('0123456789abcdef', SUBSTRING(MD5('winback_campaign:' || user_id), 6, 1)) - 1 AS BIGINT) * 256 + CAST(STRPOS('0123456789abcdef', SUBSTRING(MD5('winback_campaign:' || user_id), 7, 1)) - 1 AS BIGINT) * 16 + CAST(STRPOS('0123456789abcdef', SUBSTRING(MD5('winback_campaign:' || user_id), 8, 1)) - 1 AS BIGINT) * 1
    ) % 100 < 10
    THEN 'control'
    ELSE 'treatment'
  END AS variant
FROM sw_layer_2
WHERE
  s_winback_campaign;
