-- sw_users.t_latitude
CAST(u.latitude AS DOUBLE)

-- sw_users.t_longitude
CAST(u.longitude AS DOUBLE)

-- sw_layer_1
SELECT
  *,
  COALESCE(
    6371.0088 * 2 * ASIN(
      SQRT(
        SIN((
          -33.8688 * 0.017453292519943295 - t_latitude * 0.017453292519943295
        ) / 2) * SIN((
          -33.8688 * 0.017453292519943295 - t_latitude * 0.017453292519943295
        ) / 2) + COS(t_latitude * 0.017453292519943295) * COS(-33.8688 * 0.017453292519943295) * SIN((
          -151.2093 * 0.017453292519943295 - t_longitude * 0.017453292519943295
        ) / 2) * SIN((
          -151.2093 * 0.017453292519943295 - t_longitude * 0.017453292519943295
        ) / 2)
      )
    ) <= 2.5,
    FALSE
  ) AS s_near_southwest
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS VARCHAR) AS variant
FROM sw_layer_1
WHERE
  s_near_southwest
