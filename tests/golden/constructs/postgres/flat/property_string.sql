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
        WHEN event_name = 'product_viewed' AND COALESCE(p_product_id = 'sku-1', FALSE)
        THEN 1
      END
    ) AS f_count_4468a2df01,
    COUNT(
      CASE
        WHEN event_name = 'product_viewed' AND COALESCE(p_product_id <> 'sku-1', TRUE)
        THEN 1
      END
    ) AS f_count_70788bbbaa,
    COUNT(
      CASE
        WHEN event_name = 'product_viewed'
        AND COALESCE(p_product_id IN ('sku-1', 'sku-2'), FALSE)
        THEN 1
      END
    ) AS f_count_16e3dc5533,
    COUNT(
      CASE
        WHEN event_name = 'product_viewed'
        AND COALESCE(NOT p_product_id IN ('sku-1', 'sku-2'), TRUE)
        THEN 1
      END
    ) AS f_count_c56f52ba4c,
    COUNT(CASE WHEN event_name = 'product_viewed' AND NOT p_product_id IS NULL THEN 1 END) AS f_count_e3616be267,
    COUNT(CASE WHEN event_name = 'product_viewed' AND p_product_id IS NULL THEN 1 END) AS f_count_ac5d984d06,
    COUNT(
      CASE
        WHEN event_name = 'product_viewed'
        AND COALESCE(POSITION('%_' IN p_product_id) > 0, FALSE)
        THEN 1
      END
    ) AS f_count_f7597f4b4a,
    COUNT(
      CASE
        WHEN event_name = 'product_viewed'
        AND COALESCE(NOT POSITION('sku' IN p_product_id) > 0, TRUE)
        THEN 1
      END
    ) AS f_count_d77eda7bf0,
    COUNT(
      CASE
        WHEN event_name = 'product_viewed'
        AND COALESCE(LEFT(p_product_id, LENGTH('sku-')) = 'sku-', FALSE)
        THEN 1
      END
    ) AS f_count_9658bace3d,
    COUNT(
      CASE
        WHEN event_name = 'product_viewed'
        AND COALESCE(RIGHT(p_product_id, LENGTH('-x')) = '-x', FALSE)
        THEN 1
      END
    ) AS f_count_e91b73516a,
    COUNT(
      CASE
        WHEN event_name = 'product_viewed' AND COALESCE(p_product_id ~ '^sku-[0-9]+$', FALSE)
        THEN 1
      END
    ) AS f_count_2671cd63bd
  FROM sw_events
  WHERE
    event_name = 'product_viewed'
  GROUP BY
    user_key
), sw_base AS (
  SELECT
    ids.user_id,
    COALESCE(f.f_count_4468a2df01, 0) AS f_count_4468a2df01,
    COALESCE(f.f_count_70788bbbaa, 0) AS f_count_70788bbbaa,
    COALESCE(f.f_count_16e3dc5533, 0) AS f_count_16e3dc5533,
    COALESCE(f.f_count_c56f52ba4c, 0) AS f_count_c56f52ba4c,
    COALESCE(f.f_count_e3616be267, 0) AS f_count_e3616be267,
    COALESCE(f.f_count_ac5d984d06, 0) AS f_count_ac5d984d06,
    COALESCE(f.f_count_f7597f4b4a, 0) AS f_count_f7597f4b4a,
    COALESCE(f.f_count_d77eda7bf0, 0) AS f_count_d77eda7bf0,
    COALESCE(f.f_count_9658bace3d, 0) AS f_count_9658bace3d,
    COALESCE(f.f_count_e91b73516a, 0) AS f_count_e91b73516a,
    COALESCE(f.f_count_2671cd63bd, 0) AS f_count_2671cd63bd
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
    COALESCE(f_count_4468a2df01 >= 1, FALSE)
    OR COALESCE(f_count_70788bbbaa >= 1, FALSE)
    OR COALESCE(f_count_16e3dc5533 >= 1, FALSE)
    OR COALESCE(f_count_c56f52ba4c >= 1, FALSE)
    OR COALESCE(f_count_e3616be267 >= 1, FALSE)
    OR COALESCE(f_count_ac5d984d06 >= 1, FALSE)
    OR COALESCE(f_count_f7597f4b4a >= 1, FALSE)
    OR COALESCE(f_count_d77eda7bf0 >= 1, FALSE)
    OR COALESCE(f_count_9658bace3d >= 1, FALSE)
    OR COALESCE(f_count_e91b73516a >= 1, FALSE)
    OR COALESCE(f_count_2671cd63bd >= 1, FALSE) AS s_property_string
  FROM sw_base
)
SELECT
  user_id,
  CAST(NULL AS TEXT) AS variant
FROM sw_layer_1
WHERE
  s_property_string;
