/* 住房安全等级C/D (unsafe_housing) */
/* Finds houses whose latest rating in the window is C or D; one event per house and */
/* rating, so a house downgraded from C to D warns again. */
WITH latest AS (
  SELECT
    household_id,
    house_id,
    rated_on,
    rating
  FROM (
    SELECT
      r.household_id,
      r.house_id,
      r.rated_on,
      r.rating,
      ROW_NUMBER() OVER (PARTITION BY r.house_id ORDER BY r.rated_on DESC, r.rating DESC) AS _w
    FROM housing_safety AS r
    JOIN households AS h
      ON h.household_id = r.household_id
    WHERE
      r.rated_on >= CAST('2026-01-01' AS DATE) - INTERVAL '365' DAY
      AND r.rated_on < CAST('2026-01-01' AS DATE)
  ) AS _t
  WHERE
    _w = 1
)
SELECT
  l.household_id,
  'unsafe_housing' AS rule_id,
  CASE WHEN l.rating = 'D' THEN 'red' ELSE 'yellow' END AS level,
  'unsafe_housing:' || l.house_id || ':' || l.rating AS event_key,
  l.rated_on AS event_date,
  TO_JSON(NAMED_STRUCT('house_id', l.house_id, 'rating', l.rating)) AS evidence,
  '住房安全鉴定为' || l.rating || '级' || CASE WHEN l.rating = 'D' THEN '（整体危险）' ELSE '（局部危险）' END AS explanation
FROM latest AS l
WHERE
  l.rating IN ('C', 'D')
