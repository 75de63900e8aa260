WITH sw_users AS (
  SELECT
    CAST(u.user_id AS VARCHAR) AS user_id
  FROM demo_users AS u
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
          AND CAST(e.occurred_at AS TIMESTAMPNTZ) > CAST('2025-06-01 00:00:00' AS TIMESTAMPNTZ) - INTERVAL '365 DAY'
          THEN CASE
            WHEN (REGEXP_INSTR(JSON_EXTRACT_PATH_TEXT(TO_VARCHAR(e.properties), 'amount'), '^[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][+-]?[0-9]+)?$') > 0)
            THEN CAST(JSON_EXTRACT_PATH_TEXT(TO_VARCHAR(e.properties), 'amount') AS DOUBLE)
          END
        END AS p_amount,
        ROW_NUMBER() OVER (
          PARTITION BY e.user_id, e.event_id
          ORDER BY CAST(e.occurred_at AS TIMESTAMPNTZ) ASC
        ) AS sw_copy
      FROM demo_events AS e
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
        AND CAST(e.occurred_at AS TIMESTAMPNTZ) > CAST('2025-06-01 00:00:00' AS TIMESTAMPNTZ) - INTERVAL '365 DAY'
        THEN CASE
          WHEN (REGEXP_INSTR(JSON_EXTRACT_PATH_TEXT(TO_VARCHAR(e.properties), 'amount'), '^[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][+-]?[0-9]+)?$') > 0)
          THEN CAST(JSON_EXTRACT_PATH_TEXT(TO_VARCHAR(e.properties), 'amount') AS DOUBLE)
        END
      END AS p_amount
    FROM demo_events AS e
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
), sw_rfm_totals AS (
  SELECT
    CAST(user_key AS VARCHAR) AS user_id,
    MAX(ts) AS last_ts,
    COUNT(*) AS frequency,
    COALESCE(SUM(p_amount), 0) AS monetary
  FROM sw_events
  WHERE
    event_name = 'order_completed'
    AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMPNTZ) - INTERVAL '365 DAY'
  GROUP BY
    user_key
), sw_rfm_days AS (
  SELECT
    user_id,
    CAST(FLOOR(
      CAST(DATEDIFF(MICROSECOND, last_ts, CAST('2025-06-01 00:00:00' AS TIMESTAMPNTZ)) AS DOUBLE) / 86400000000
    ) AS BIGINT) AS recency_days,
    frequency,
    monetary
  FROM sw_rfm_totals
), sw_rfm_ranks AS (
  SELECT
    user_id,
    recency_days,
    frequency,
    monetary,
    RANK() OVER (ORDER BY recency_days DESC) AS r_rank,
    RANK() OVER (ORDER BY frequency ASC) AS f_rank,
    RANK() OVER (ORDER BY monetary ASC) AS m_rank,
    COUNT(*) OVER () AS n
  FROM sw_rfm_days
), sw_rfm_scores AS (
  SELECT
    user_id,
    recency_days,
    frequency,
    monetary,
    CASE
      WHEN n = 1
      THEN 5
      WHEN 1 + FLOOR(CAST(5 * (
        r_rank - 1
      ) AS DOUBLE) / CAST((
        n - 1
      ) AS DOUBLE)) > 5
      THEN 5
      ELSE 1 + FLOOR(CAST(5 * (
        r_rank - 1
      ) AS DOUBLE) / CAST((
        n - 1
      ) AS DOUBLE))
    END AS r,
    CASE
      WHEN n = 1
      THEN 5
      WHEN 1 + FLOOR(CAST(5 * (
        f_rank - 1
      ) AS DOUBLE) / CAST((
        n - 1
      ) AS DOUBLE)) > 5
      THEN 5
      ELSE 1 + FLOOR(CAST(5 * (
        f_rank - 1
      ) AS DOUBLE) / CAST((
        n - 1
      ) AS DOUBLE))
    END AS f,
    CASE
      WHEN n = 1
      THEN 5
      WHEN 1 + FLOOR(CAST(5 * (
        m_rank - 1
      ) AS DOUBLE) / CAST((
        n - 1
      ) AS DOUBLE)) > 5
      THEN 5
      ELSE 1 + FLOOR(CAST(5 * (
        m_rank - 1
      ) AS DOUBLE) / CAST((
        n - 1
      ) AS DOUBLE))
    END AS m
  FROM sw_rfm_ranks
), sw_rfm AS (
  SELECT
    user_id,
    recency_days,
    frequency,
    monetary,
    r,
    f,
    m,
    CASE
      WHEN r >= 4 AND f >= 4
      THEN 'champions'
      WHEN r >= 3 AND f >= 4
      THEN 'loyal'
      WHEN r >= 4 AND f BETWEEN 2 AND 3
      THEN 'potential_loyalist'
      WHEN r = 5 AND f = 1
      THEN 'new_customer'
      WHEN r <= 2 AND f >= 3
      THEN 'at_risk'
      WHEN r <= 2 AND f <= 2
      THEN 'hibernating'
      ELSE 'needs_attention'
    END AS tier
  FROM sw_rfm_scores
), sw_base AS (
  SELECT
    ids.user_id,
    r.recency_days AS rfm_recency_days,
    r.frequency AS rfm_frequency,
    r.monetary AS rfm_monetary,
    r.r AS rfm_r,
    r.f AS rfm_f,
    r.m AS rfm_m,
    r.tier AS rfm_tier
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
  LEFT JOIN sw_rfm AS r
    ON r.user_id = ids.user_id
), sw_layer_1 AS (
  SELECT
    *,
    COALESCE(rfm_tier = 'champions', FALSE) AS s_rfm_champions
  FROM sw_base
)
SELECT
  user_id,
  CAST(NULL AS VARCHAR) AS variant
FROM sw_layer_1
WHERE
  s_rfm_champions;
