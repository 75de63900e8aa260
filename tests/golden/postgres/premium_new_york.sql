WITH sw_users AS (
  SELECT
    CAST(u.user_id AS TEXT) AS user_id,
    CAST(u.plan AS TEXT) AS t_plan,
    CAST(u.city AS TEXT) AS t_city
  FROM demo_users AS u
  WHERE
    NOT u.user_id IS NULL
), sw_events AS (
  SELECT
    user_id,
    event_name,
    ts
  FROM (
    SELECT
      CAST(e.user_id AS TEXT) AS user_id,
      e.event_name AS event_name,
      CAST(e.occurred_at AS TIMESTAMP) AS ts,
      e.event_id AS sw_event_id,
      ROW_NUMBER() OVER (
        PARTITION BY CAST(e.user_id AS TEXT), e.event_id
        ORDER BY CAST(e.occurred_at AS TIMESTAMP) ASC
      ) AS sw_copy
    FROM demo_events AS e
    WHERE
      NOT e.user_id IS NULL
      AND CAST(e.occurred_at AS TIMESTAMP) <= CAST('2025-06-01 00:00:00' AS TIMESTAMP)
  ) AS d
  WHERE
    sw_event_id IS NULL OR sw_copy = 1
), sw_features AS (
  SELECT
    user_id
  FROM sw_events
  GROUP BY
    user_id
), sw_base AS (
  SELECT
    ids.user_id,
    u.t_plan,
    u.t_city
  FROM (
    SELECT
      user_id
    FROM sw_users
    UNION
    SELECT
      user_id
    FROM sw_features
  ) AS ids
  LEFT JOIN sw_users AS u
    ON u.user_id = ids.user_id
  LEFT JOIN sw_features AS f
    ON f.user_id = ids.user_id
), sw_layer_1 AS (
  SELECT
    *,
    COALESCE(t_plan IN ('enterprise', 'pro'), FALSE)
    AND COALESCE(LOWER(t_city) = LOWER('new york'), FALSE) AS s_premium_new_york
  FROM sw_base
)
SELECT
  user_id,
  CAST(NULL AS TEXT) AS variant
FROM sw_layer_1
WHERE
  s_premium_new_york;
