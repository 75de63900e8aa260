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
    ts,
    p_amount
  FROM (
    SELECT
      user_key,
      event_name,
      ts,
      p_amount
    FROM (
      SELECT
        e.user_id AS user_key,
        e.event_name AS event_name,
        CAST(e.occurred_at AS TIMESTAMP) AS ts,
        CAST(e.amount_value AS DOUBLE PRECISION) AS p_amount,
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
      CAST(e.occurred_at AS TIMESTAMP) AS ts,
      CAST(e.amount_value AS DOUBLE PRECISION) AS p_amount
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
        WHEN event_name = 'order_completed'
        AND COALESCE(p_amount > 0, FALSE)
        AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '30 DAY'
        THEN 1
      END
    ) AS f_count_c0a6ec7527,
    COUNT(
      CASE
        WHEN event_name = 'order_completed'
        AND COALESCE(p_amount > 0, FALSE)
        AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '60 DAY'
        AND ts <= CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '30 DAY'
        THEN 1
      END
    ) AS f_count_c99f4353c8,
    COUNT(
      CASE
        WHEN event_name = 'order_completed'
        AND COALESCE(p_amount > 0, FALSE)
        AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '90 DAY'
        AND ts <= CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '60 DAY'
        THEN 1
      END
    ) AS f_count_0626df8fef
  FROM sw_events
  WHERE
    event_name = 'order_completed'
    AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '90 DAY'
  GROUP BY
    user_key
), sw_base AS (
  SELECT
    ids.user_id,
    COALESCE(f.f_count_c0a6ec7527, 0) AS f_count_c0a6ec7527,
    COALESCE(f.f_count_c99f4353c8, 0) AS f_count_c99f4353c8,
    COALESCE(f.f_count_0626df8fef, 0) AS f_count_0626df8fef
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
      CASE WHEN f_count_c0a6ec7527 >= 1 THEN 1 ELSE 0 END + CASE WHEN f_count_c99f4353c8 >= 1 THEN 1 ELSE 0 END + CASE WHEN f_count_0626df8fef >= 1 THEN 1 ELSE 0 END
    ) >= 3 AS s_regularity_with_where
  FROM sw_base
)
SELECT
  user_id,
  CAST(NULL AS TEXT) AS variant
FROM sw_layer_1
WHERE
  s_regularity_with_where;
