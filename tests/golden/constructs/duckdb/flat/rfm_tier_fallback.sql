-- sw_events.p_amount
CAST(e.amount_value AS DOUBLE)

-- sw_rfm_totals
SELECT
  CAST(user_key AS TEXT) AS user_id,
  MAX(ts) AS last_ts,
  COUNT(*) AS frequency,
  COALESCE(SUM(p_amount), 0) AS monetary
FROM sw_events
WHERE
  event_name = 'order_completed'
  AND ts > CAST('2025-06-01 00:00:00' AS TIMESTAMP) - INTERVAL '365' DAY
GROUP BY
  user_key

-- sw_rfm_days
SELECT
  user_id,
  CAST(FLOOR(
    CAST((EPOCH_US(CAST('2025-06-01 00:00:00' AS TIMESTAMP)) - EPOCH_US(last_ts)) AS DOUBLE) / 86400000000
  ) AS BIGINT) AS recency_days,
  frequency,
  monetary
FROM sw_rfm_totals

-- sw_rfm_ranks
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

-- sw_rfm_scores
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

-- sw_rfm
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

-- sw_layer_1
SELECT
  *,
  COALESCE(rfm_tier = 'needs_attention', FALSE) AS s_rfm_tier_fallback
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS TEXT) AS variant
FROM sw_layer_1
WHERE
  s_rfm_tier_fallback
