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
        CAST(e.amount_value AS DOUBLE) AS p_amount,
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
      CAST(e.amount_value AS DOUBLE) AS p_amount
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
    COUNT(
      CASE
        WHEN event_name = 'order_completed' AND COALESCE(p_amount = 50, FALSE)
        THEN 1
      END
    ) AS f_count_de91ebe160,
    COUNT(
      CASE
        WHEN event_name = 'order_completed' AND COALESCE(p_amount <> 50, TRUE)
        THEN 1
      END
    ) AS f_count_307836eaed,
    COUNT(
      CASE
        WHEN event_name = 'order_completed' AND COALESCE(p_amount IN (10, 12.5), FALSE)
        THEN 1
      END
    ) AS f_count_41800aa666,
    COUNT(
      CASE
        WHEN event_name = 'order_completed' AND COALESCE(NOT p_amount IN (10, 12.5), TRUE)
        THEN 1
      END
    ) AS f_count_a6b5882495,
    COUNT(CASE WHEN event_name = 'order_completed' AND NOT p_amount IS NULL THEN 1 END) AS f_count_985f99fe01,
    COUNT(
      CASE
        WHEN event_name = 'order_completed' AND COALESCE(p_amount > 50, FALSE)
        THEN 1
      END
    ) AS f_count_43e3472366,
    COUNT(
      CASE
        WHEN event_name = 'order_completed' AND COALESCE(p_amount >= 50, FALSE)
        THEN 1
      END
    ) AS f_count_cff968eb12,
    COUNT(
      CASE
        WHEN event_name = 'order_completed' AND COALESCE(p_amount < -1, FALSE)
        THEN 1
      END
    ) AS f_count_6bd2bed276,
    COUNT(
      CASE
        WHEN event_name = 'order_completed' AND COALESCE(p_amount <= 0.5, FALSE)
        THEN 1
      END
    ) AS f_count_0ffc3af545,
    COUNT(
      CASE
        WHEN event_name = 'order_completed' AND COALESCE(p_amount BETWEEN 1 AND 99.5, FALSE)
        THEN 1
      END
    ) AS f_count_eacb4b09c8
  FROM sw_events
  WHERE
    event_name = 'order_completed'
  GROUP BY
    user_key
), sw_base AS (
  SELECT
    ids.user_id,
    COALESCE(f.f_count_de91ebe160, 0) AS f_count_de91ebe160,
    COALESCE(f.f_count_307836eaed, 0) AS f_count_307836eaed,
    COALESCE(f.f_count_41800aa666, 0) AS f_count_41800aa666,
    COALESCE(f.f_count_a6b5882495, 0) AS f_count_a6b5882495,
    COALESCE(f.f_count_985f99fe01, 0) AS f_count_985f99fe01,
    COALESCE(f.f_count_43e3472366, 0) AS f_count_43e3472366,
    COALESCE(f.f_count_cff968eb12, 0) AS f_count_cff968eb12,
    COALESCE(f.f_count_6bd2bed276, 0) AS f_count_6bd2bed276,
    COALESCE(f.f_count_0ffc3af545, 0) AS f_count_0ffc3af545,
    COALESCE(f.f_count_eacb4b09c8, 0) AS f_count_eacb4b09c8
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
    COALESCE(f_count_de91ebe160 >= 1, FALSE)
    OR COALESCE(f_count_307836eaed >= 1, FALSE)
    OR COALESCE(f_count_41800aa666 >= 1, FALSE)
    OR COALESCE(f_count_a6b5882495 >= 1, FALSE)
    OR COALESCE(f_count_985f99fe01 >= 1, FALSE)
    OR COALESCE(f_count_43e3472366 >= 1, FALSE)
    OR COALESCE(f_count_cff968eb12 >= 1, FALSE)
    OR COALESCE(f_count_6bd2bed276 >= 1, FALSE)
    OR COALESCE(f_count_0ffc3af545 >= 1, FALSE)
    OR COALESCE(f_count_eacb4b09c8 >= 1, FALSE) AS s_property_number
  FROM sw_base
)
SELECT
  user_id,
  CAST(NULL AS VARCHAR) AS variant
FROM sw_layer_1
WHERE
  s_property_number;
