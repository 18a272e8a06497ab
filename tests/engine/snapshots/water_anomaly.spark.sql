/* 独居老人用水异常 (water_anomaly) */
/* Finds, for elders living alone (one living member aged :elder_age or older on :as_of), */
/* complete metered days in the last :lookback_days with use below :low_litres or above */
/* :high_litres. Islands of consecutive unusual days of the same kind (day number minus */
/* row number) are one episode; the key is the meter, the kind and the first day. */
WITH alone AS (
  SELECT
    p.household_id
  FROM persons AS p
  JOIN households AS h
    ON h.household_id = p.household_id
  WHERE
    NOT p.is_deceased
  GROUP BY
    p.household_id,
    h.region_code
  HAVING
    COUNT(*) = 1
    AND MAX(p.birth_date) <= CAST('2026-01-01' AS DATE) - 70 * INTERVAL '1' YEAR
), days AS (
  SELECT
    w.household_id,
    w.meter_id,
    CAST(w.read_at AS DATE) AS day,
    SUM(w.litres) AS litres,
    COUNT(*) AS readings,
    MIN(w.`interval`) AS first_interval,
    MAX(w.`interval`) AS last_interval
  FROM water_meter_reading AS w
  JOIN alone AS a
    ON a.household_id = w.household_id
  WHERE
    w.read_at >= CAST('2026-01-01' AS DATE) - INTERVAL '30' DAY
    AND w.read_at < CAST('2026-01-01' AS DATE)
  GROUP BY
    w.household_id,
    w.meter_id,
    CAST(w.read_at AS DATE)
), unusual AS (
  SELECT
    d.household_id,
    d.meter_id,
    d.day,
    d.litres,
    CASE WHEN d.litres < 10.0 THEN 'low' ELSE 'high' END AS kind
  FROM days AS d
  JOIN households AS h
    ON h.household_id = d.household_id
  WHERE
    d.first_interval = d.last_interval
    AND (
      (
        d.first_interval = 'day' AND d.readings = 1
      )
      OR (
        d.first_interval = 'hour' AND d.readings = 24
      )
    )
    AND (
      d.litres < 10.0 OR d.litres > 1000.0
    )
), islands AS (
  SELECT
    *,
    DATEDIFF(DAY, CAST('2000-01-01' AS DATE), day) - ROW_NUMBER() OVER (PARTITION BY meter_id, kind ORDER BY day NULLS LAST) AS island
  FROM unusual
), episodes AS (
  SELECT
    household_id,
    meter_id,
    kind,
    island,
    MIN(day) AS first_day,
    MAX(day) AS last_day,
    COUNT(*) AS days,
    MIN(litres) AS litres_min,
    MAX(litres) AS litres_max
  FROM islands
  GROUP BY
    household_id,
    meter_id,
    kind,
    island
)
SELECT
  e.household_id,
  'water_anomaly' AS rule_id,
  CASE WHEN e.kind = 'low' THEN 'red' ELSE 'yellow' END AS level,
  'water_anomaly:' || e.meter_id || ':' || e.kind || ':' || CAST(e.first_day AS STRING) AS event_key,
  e.first_day AS event_date,
  TO_JSON(
    NAMED_STRUCT(
      'meter_id',
      e.meter_id,
      'kind',
      e.kind,
      'days',
      e.days,
      'first_day',
      CAST(e.first_day AS STRING),
      'last_day',
      CAST(e.last_day AS STRING),
      'litres_min',
      ROUND(e.litres_min, 2),
      'litres_max',
      ROUND(e.litres_max, 2)
    )
  ) AS evidence,
  '独居老人' || CAST(e.days AS STRING) || '天用水' || CASE
    WHEN e.kind = 'low'
    THEN '过低（最低 ' || CAST(CAST(ROUND(e.litres_min) AS BIGINT) AS STRING) || ' 升/日）'
    ELSE '过高（最高 ' || CAST(CAST(ROUND(e.litres_max) AS BIGINT) AS STRING) || ' 升/日）'
  END AS explanation
FROM episodes AS e
