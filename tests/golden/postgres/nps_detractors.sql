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
    ts,
    p_score,
    p_survey_id
  FROM (
    SELECT
      user_key,
      event_name,
      ts,
      p_score,
      p_survey_id
    FROM (
      SELECT
        e.user_id AS user_key,
        e.event_name AS event_name,
        CAST(e.occurred_at AS TIMESTAMP) AS ts,
        CASE
          WHEN e.event_name = 'survey_completed'
          THEN CASE
            WHEN (CAST(e.properties AS JSONB) ->> 'score') ~ '^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$'
            THEN CAST((CAST(e.properties AS JSONB) ->> 'score') AS DOUBLE PRECISION)
          END
        END AS p_score,
        CASE
          WHEN e.event_name = 'survey_completed'
          THEN (CAST(e.properties AS JSONB) ->> 'survey_id')
        END AS p_survey_id,
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
      CAST(e.occurred_at AS TIMESTAMP) AS ts,
      CASE
        WHEN e.event_name = 'survey_completed'
        THEN CASE
          WHEN (CAST(e.properties AS JSONB) ->> 'score') ~ '^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$'
          THEN CAST((CAST(e.properties AS JSONB) ->> 'score') AS DOUBLE PRECISION)
        END
      END AS p_score,
      CASE
        WHEN e.event_name = 'survey_completed'
        THEN (CAST(e.properties AS JSONB) ->> 'survey_id')
      END AS p_survey_id
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
), sw_features AS (
  SELECT
    CAST(user_key AS TEXT) AS user_id,
    COUNT(
      CASE
        WHEN event_name = 'survey_completed'
        AND COALESCE(p_score <= 6, FALSE)
        AND COALESCE(p_survey_id = 'nps', FALSE)
        THEN 1
      END
    ) AS f_count_e0a8e10f3d
  FROM sw_events
  WHERE
    event_name = 'survey_completed'
  GROUP BY
    user_key
), sw_base AS (
  SELECT
    ids.user_id,
    COALESCE(f.f_count_e0a8e10f3d, 0) AS f_count_e0a8e10f3d
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
    COALESCE(f_count_e0a8e10f3d >= 1, FALSE) AS s_nps_detractors
  FROM sw_base
)
SELECT
  user_id,
  CAST(NULL AS TEXT) AS variant
FROM sw_layer_1
WHERE
  s_nps_detractors;
