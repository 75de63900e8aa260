WITH sw_users AS (
  SELECT
    CAST(u.user_id AS STRING) AS user_id
  FROM analytics.users AS u
  WHERE
    NOT u.user_id IS NULL
), sw_events AS (
  SELECT
    user_key,
    event_name,
    ts,
    p_is_gift
  FROM (
    SELECT
      user_key,
      event_name,
      ts,
      p_is_gift
    FROM (
      SELECT
        e.user_id AS user_key,
        e.event_name AS event_name,
        CAST(e.occurred_at AS TIMESTAMP) AS ts,
        CASE
          WHEN e.event_name = 'order_completed'
          THEN CASE
            WHEN LOWER(JSON_EXTRACT_SCALAR(e.properties, '$.is_gift')) IN ('true', 'false')
            THEN CAST(JSON_EXTRACT_SCALAR(e.properties, '$.is_gift') AS BOOL)
          END
        END AS p_is_gift,
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
      CASE
        WHEN e.event_name = 'order_completed'
        THEN CASE
          WHEN LOWER(JSON_EXTRACT_SCALAR(e.properties, '$.is_gift')) IN ('true', 'false')
          THEN CAST(JSON_EXTRACT_SCALAR(e.properties, '$.is_gift') AS BOOL)
        END
      END AS p_is_gift
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
    CAST(user_key AS STRING) AS user_id
  FROM sw_events
  GROUP BY
    user_key
), sw_features AS (
  SELECT
    CAST(user_key AS STRING) AS user_id,
    COUNT(
      CASE
        WHEN event_name = 'order_completed' AND COALESCE(p_is_gift = TRUE, FALSE)
        THEN 1
      END
    ) AS f_count_6896df50ac,
    COUNT(
      CASE
        WHEN event_name = 'order_completed' AND COALESCE(p_is_gift <> TRUE, TRUE)
        THEN 1
      END
    ) AS f_count_f8d5cc60f1,
    COUNT(
      CASE
        WHEN event_name = 'order_completed' AND COALESCE(p_is_gift IN (FALSE), FALSE)
        THEN 1
      END
    ) AS f_count_085cd3f888,
    COUNT(
      CASE
        WHEN event_name = 'order_completed' AND COALESCE(NOT p_is_gift IN (FALSE), TRUE)
        THEN 1
      END
    ) AS f_count_8fe9fe237f,
    COUNT(CASE WHEN event_name = 'order_completed' AND p_is_gift IS NULL THEN 1 END) AS f_count_38153e4ec0
  FROM sw_events
  WHERE
    event_name = 'order_completed'
  GROUP BY
    user_key
), sw_base AS (
  SELECT
    ids.user_id,
    COALESCE(f.f_count_6896df50ac, 0) AS f_count_6896df50ac,
    COALESCE(f.f_count_f8d5cc60f1, 0) AS f_count_f8d5cc60f1,
    COALESCE(f.f_count_085cd3f888, 0) AS f_count_085cd3f888,
    COALESCE(f.f_count_8fe9fe237f, 0) AS f_count_8fe9fe237f,
    COALESCE(f.f_count_38153e4ec0, 0) AS f_count_38153e4ec0
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
    COALESCE(f_count_6896df50ac >= 1, FALSE)
    OR COALESCE(f_count_f8d5cc60f1 >= 1, FALSE)
    OR COALESCE(f_count_085cd3f888 >= 1, FALSE)
    OR COALESCE(f_count_8fe9fe237f >= 1, FALSE)
    OR COALESCE(f_count_38153e4ec0 >= 1, FALSE) AS s_property_boolean
  FROM sw_base
)
SELECT
  user_id,
  CAST(NULL AS STRING) AS variant
FROM sw_layer_1
WHERE
  s_property_boolean;
