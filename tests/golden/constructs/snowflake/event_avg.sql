WITH sw_users AS (
  SELECT
    CAST(u.user_id AS VARCHAR) AS user_id
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
        CAST(e.occurred_at AS TIMESTAMPNTZ) AS ts,
        CASE
          WHEN e.event_name = 'order_completed'
          THEN CASE
            WHEN (REGEXP_INSTR(JSON_EXTRACT_PATH_TEXT(TO_VARCHAR(e.properties), 'amount'), '^[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][+-]?[0-9]+)?$') > 0)
            THEN CAST(JSON_EXTRACT_PATH_TEXT(TO_VARCHAR(e.properties), 'amount') AS DOUBLE)
          END
        END AS p_amount,
        ROW_NUMBER() OVER (
          PARTITION BY e.user_id, e.event_id
          ORDER BY CAST(e.occurred_at AS TIMESTAMPNTZ) ASC
        ) AS sw_copy
      FROM analytics.events AS e
      WHERE
        (
          NOT e.user_id IS NULL
          AND CAST(e.occurred_at AS TIMESTAMPNTZ) <= CAST('2025-06-01 00:00:00' AS TIMESTAMPNTZ)
        )
        AND NOT e.event_id IS NULL
    ) AS d
    WHERE
      sw_copy = 1
    UNION ALL
    SELECT
      e.user_id AS user_key,
      e.event_name AS event_name,
      CAST(e.occurred_at AS TIMESTAMPNTZ) AS ts,
      CASE
        WHEN e.event_name = 'order_completed'
        THEN CASE
          WHEN (REGEXP_INSTR(JSON_EXTRACT_PATH_TEXT(TO_VARCHAR(e.properties), 'amount'), '^[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][+-]?[0-9]+)?$') > 0)
          THEN CAST(JSON_EXTRACT_PATH_TEXT(TO_VARCHAR(e.properties), 'amount') AS DOUBLE)
        END
      END AS p_amount
    FROM analytics.events AS e
    WHERE
      (
        NOT e.user_id IS NULL
        AND CAST(e.occurred_at AS TIMESTAMPNTZ) <= CAST('2025-06-01 00:00:00' AS TIMESTAMPNTZ)
      )
      AND e.event_id IS NULL
  ) AS sw_deduplicated
), sw_seen AS (
  SELECT
    CAST(user_key AS VARCHAR) AS user_id
  FROM sw_events
  GROUP BY
    user_key
), sw_features AS (
  SELECT
    CAST(user_key AS VARCHAR) AS user_id,
    AVG(CASE WHEN event_name = 'order_completed' THEN p_amount END) AS f_avg_5d6282a3cc
  FROM sw_events
  WHERE
    event_name = 'order_completed'
  GROUP BY
    user_key
), sw_base AS (
  SELECT
    ids.user_id,
    f.f_avg_5d6282a3cc AS f_avg_5d6282a3cc
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
    COALESCE(f_avg_5d6282a3cc >= 99.5, FALSE) AS s_event_avg
  FROM sw_base
)
SELECT
  user_id,
  CAST(NULL AS VARCHAR) AS variant
FROM sw_layer_1
WHERE
  s_event_avg;
