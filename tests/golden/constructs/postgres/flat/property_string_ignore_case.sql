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
    p_product_id
  FROM (
    SELECT
      user_key,
      event_name,
      ts,
      p_product_id
    FROM (
      SELECT
        e.user_id AS user_key,
        e.event_name AS event_name,
        CAST(e.occurred_at AS TIMESTAMP) AS ts,
        CAST(e.product_id AS TEXT) AS p_product_id,
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
      CAST(e.product_id AS TEXT) AS p_product_id
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
        WHEN event_name = 'product_viewed'
        AND COALESCE(LOWER(p_product_id) = LOWER('SKU-1'), FALSE)
        THEN 1
      END
    ) AS f_count_96e69a1276,
    COUNT(
      CASE
        WHEN event_name = 'product_viewed'
        AND COALESCE(LOWER(p_product_id) <> LOWER('SKU-1'), TRUE)
        THEN 1
      END
    ) AS f_count_79e7cdd471,
    COUNT(
      CASE
        WHEN event_name = 'product_viewed'
        AND COALESCE(LOWER(p_product_id) IN (LOWER('SKU-1'), LOWER('Sku-2')), FALSE)
        THEN 1
      END
    ) AS f_count_b4594b3de6,
    COUNT(
      CASE
        WHEN event_name = 'product_viewed'
        AND COALESCE(NOT LOWER(p_product_id) IN (LOWER('SKU-1')), TRUE)
        THEN 1
      END
    ) AS f_count_4390ffe970,
    COUNT(
      CASE
        WHEN event_name = 'product_viewed'
        AND COALESCE(POSITION(LOWER('KU') IN LOWER(p_product_id)) > 0, FALSE)
        THEN 1
      END
    ) AS f_count_797a89008e,
    COUNT(
      CASE
        WHEN event_name = 'product_viewed'
        AND COALESCE(NOT POSITION(LOWER('KU') IN LOWER(p_product_id)) > 0, TRUE)
        THEN 1
      END
    ) AS f_count_4fc3480cff,
    COUNT(
      CASE
        WHEN event_name = 'product_viewed'
        AND COALESCE(LEFT(LOWER(p_product_id), LENGTH(LOWER('SKU'))) = LOWER('SKU'), FALSE)
        THEN 1
      END
    ) AS f_count_9c80b725c5,
    COUNT(
      CASE
        WHEN event_name = 'product_viewed'
        AND COALESCE(RIGHT(LOWER(p_product_id), LENGTH(LOWER('-X'))) = LOWER('-X'), FALSE)
        THEN 1
      END
    ) AS f_count_e681f3105a
  FROM sw_events
  WHERE
    event_name = 'product_viewed'
  GROUP BY
    user_key
), sw_base AS (
  SELECT
    ids.user_id,
    COALESCE(f.f_count_96e69a1276, 0) AS f_count_96e69a1276,
    COALESCE(f.f_count_79e7cdd471, 0) AS f_count_79e7cdd471,
    COALESCE(f.f_count_b4594b3de6, 0) AS f_count_b4594b3de6,
    COALESCE(f.f_count_4390ffe970, 0) AS f_count_4390ffe970,
    COALESCE(f.f_count_797a89008e, 0) AS f_count_797a89008e,
    COALESCE(f.f_count_4fc3480cff, 0) AS f_count_4fc3480cff,
    COALESCE(f.f_count_9c80b725c5, 0) AS f_count_9c80b725c5,
    COALESCE(f.f_count_e681f3105a, 0) AS f_count_e681f3105a
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
    COALESCE(f_count_96e69a1276 >= 1, FALSE)
    OR COALESCE(f_count_79e7cdd471 >= 1, FALSE)
    OR COALESCE(f_count_b4594b3de6 >= 1, FALSE)
    OR COALESCE(f_count_4390ffe970 >= 1, FALSE)
    OR COALESCE(f_count_797a89008e >= 1, FALSE)
    OR COALESCE(f_count_4fc3480cff >= 1, FALSE)
    OR COALESCE(f_count_9c80b725c5 >= 1, FALSE)
    OR COALESCE(f_count_e681f3105a >= 1, FALSE) AS s_property_string_ignore_case
  FROM sw_base
)
SELECT
  user_id,
  CAST(NULL AS TEXT) AS variant
FROM sw_layer_1
WHERE
  s_property_string_ignore_case;
