WITH sw_users AS (
  SELECT
    CAST(u.user_id AS TEXT) AS user_id
  FROM analytics.users AS u
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
      FROM analytics.events AS e
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
    FROM analytics.events AS e
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
), sw_features AS (
  SELECT
    CAST(user_key AS TEXT) AS user_id,
    COUNT(
      CASE
        WHEN event_name = 'app_opened'
        AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '1' DAY
        THEN 1
      END
    ) AS f_count_b54e4a9544,
    COUNT(
      CASE
        WHEN event_name = 'app_opened'
        AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '2' DAY
        AND ts <= CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '1' DAY
        THEN 1
      END
    ) AS f_count_50f1714484,
    COUNT(
      CASE
        WHEN event_name = 'app_opened'
        AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '3' DAY
        AND ts <= CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '2' DAY
        THEN 1
      END
    ) AS f_count_0d609aa4a3,
    COUNT(
      CASE
        WHEN event_name = 'app_opened'
        AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '4' DAY
        AND ts <= CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '3' DAY
        THEN 1
      END
    ) AS f_count_20e593d87c,
    COUNT(
      CASE
        WHEN event_name = 'app_opened'
        AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '5' DAY
        AND ts <= CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '4' DAY
        THEN 1
      END
    ) AS f_count_9ae91ab41a,
    COUNT(
      CASE
        WHEN event_name = 'app_opened'
        AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '6' DAY
        AND ts <= CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '5' DAY
        THEN 1
      END
    ) AS f_count_e4a987c980,
    COUNT(
      CASE
        WHEN event_name = 'app_opened'
        AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '7' DAY
        AND ts <= CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '6' DAY
        THEN 1
      END
    ) AS f_count_770df03ab4
  FROM sw_events
  WHERE
    event_name = 'app_opened'
    AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '7' DAY
  GROUP BY
    user_key
), sw_base AS (
  SELECT
    ids.user_id,
    COALESCE(f.f_count_b54e4a9544, 0) AS f_count_b54e4a9544,
    COALESCE(f.f_count_50f1714484, 0) AS f_count_50f1714484,
    COALESCE(f.f_count_0d609aa4a3, 0) AS f_count_0d609aa4a3,
    COALESCE(f.f_count_20e593d87c, 0) AS f_count_20e593d87c,
    COALESCE(f.f_count_9ae91ab41a, 0) AS f_count_9ae91ab41a,
    COALESCE(f.f_count_e4a987c980, 0) AS f_count_e4a987c980,
    COALESCE(f.f_count_770df03ab4, 0) AS f_count_770df03ab4
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
    (
      CASE WHEN f_count_b54e4a9544 >= 2 THEN 1 ELSE 0 END + CASE WHEN f_count_50f1714484 >= 2 THEN 1 ELSE 0 END + CASE WHEN f_count_0d609aa4a3 >= 2 THEN 1 ELSE 0 END + CASE WHEN f_count_20e593d87c >= 2 THEN 1 ELSE 0 END + CASE WHEN f_count_9ae91ab41a >= 2 THEN 1 ELSE 0 END + CASE WHEN f_count_e4a987c980 >= 2 THEN 1 ELSE 0 END + CASE WHEN f_count_770df03ab4 >= 2 THEN 1 ELSE 0 END
    ) >= 5 AS s_regularity_min_count
  FROM sw_base
)
SELECT
  user_id,
  CAST(NULL AS TEXT) AS variant
FROM sw_layer_1
WHERE
  s_regularity_min_count;
