-- sw_users.t_latitude
CAST(u.latitude AS DOUBLE PRECISION)

-- sw_users.t_longitude
CAST(u.longitude AS DOUBLE PRECISION)

-- sw_layer_1
SELECT
  *,
  COALESCE(
    6371.0088 * 2 * ASIN(
      SQRT(
        SIN(
          CAST((
            52.52 * 0.017453292519943295 - t_latitude * 0.017453292519943295
          ) AS DOUBLE PRECISION) / 2
        ) * SIN(
          CAST((
            52.52 * 0.017453292519943295 - t_latitude * 0.017453292519943295
          ) AS DOUBLE PRECISION) / 2
        ) + COS(t_latitude * 0.017453292519943295) * COS(52.52 * 0.017453292519943295) * SIN(
          CAST((
            13.405 * 0.017453292519943295 - t_longitude * 0.017453292519943295
          ) AS DOUBLE PRECISION) / 2
        ) * SIN(
          CAST((
            13.405 * 0.017453292519943295 - t_longitude * 0.017453292519943295
          ) AS DOUBLE PRECISION) / 2
        )
      )
    ) <= 10,
    FALSE
  ) AS s_near
FROM sw_base

-- final
SELECT
  user_id,
  CAST(NULL AS TEXT) AS variant
FROM sw_layer_1
WHERE
  s_near
