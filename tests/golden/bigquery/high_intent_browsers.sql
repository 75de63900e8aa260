WITH sw_users AS (
  SELECT
    CAST(u.user_id AS STRING) AS user_id
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
    CAST(user_key AS STRING) AS user_id
  FROM sw_events
  GROUP BY
    user_key
), sw_features AS (
  SELECT
    CAST(user_key AS STRING) AS user_id,
    COUNT(
      CASE
        WHEN event_name = 'product_viewed'
        AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '2' DAY
        THEN 1
      END
    ) AS f_count_5f62a50e5a,
    COUNT(
      CASE
        WHEN event_name = 'order_completed'
        AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '2' DAY
        THEN 1
      END
    ) AS f_count_110209015e
  FROM sw_events
  WHERE
    event_name IN ('order_completed', 'product_viewed')
    AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '2' DAY
  GROUP BY
    user_key
), sw_base AS (
  SELECT
    ids.user_id,
    COALESCE(f.f_count_5f62a50e5a, 0) AS f_count_5f62a50e5a,
    COALESCE(f.f_count_110209015e, 0) AS f_count_110209015e
  FROM (
    SELECT
      user_id
    FROM sw_users
    UNION DISTINCT
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
    COALESCE(f_count_5f62a50e5a >= 3, FALSE)
    AND COALESCE(f_count_110209015e = 0, FALSE) AS s_high_intent_browsers
  FROM sw_base
)
SELECT
  user_id,
  CAST(NULL AS STRING) AS variant
FROM sw_layer_1
WHERE
  s_high_intent_browsers;
