/* 学费欠缴或辍学 (school_hardship) */
/* Finds drop-outs and fee arrears of at least :min_owed yuan recorded in the window; */
/* one event per pupil, status and year (the first record of it). */
WITH records AS (
  SELECT
    household_id,
    person_id,
    recorded_on,
    stage,
    status,
    amount_owed
  FROM (
    SELECT
      s.household_id,
      s.person_id,
      s.recorded_on,
      s.stage,
      s.status,
      s.amount_owed,
      ROW_NUMBER() OVER (
        PARTITION BY s.person_id, s.status, YEAR(s.recorded_on)
        ORDER BY s.recorded_on NULLS LAST
      ) AS _w
    FROM school_status AS s
    JOIN households AS h
      ON h.household_id = s.household_id
    WHERE
      s.recorded_on >= CAST('2026-01-01' AS DATE) - INTERVAL '365' DAY
      AND s.recorded_on < CAST('2026-01-01' AS DATE)
      AND (
        s.status = 'dropped_out'
        OR (
          s.status = 'fee_arrears' AND s.amount_owed >= 500.0
        )
      )
  ) AS _t
  WHERE
    _w = 1
)
SELECT
  r.household_id,
  'school_hardship' AS rule_id,
  CASE
    WHEN r.status = 'dropped_out' AND r.stage IN ('primary', 'junior')
    THEN 'red'
    ELSE 'yellow'
  END AS level,
  'school_hardship:' || CAST(r.person_id AS STRING) || ':' || r.status || ':' || CAST(YEAR(r.recorded_on) AS STRING) AS event_key,
  r.recorded_on AS event_date,
  TO_JSON(
    NAMED_STRUCT('person_id', r.person_id, 'status', r.status, 'stage', r.stage, 'amount_owed', r.amount_owed)
  ) AS evidence,
  CASE
    WHEN r.status = 'dropped_out'
    THEN '学生辍学（' || r.stage || '）'
    ELSE '欠缴学费 ' || CAST(CAST(ROUND(r.amount_owed) AS BIGINT) AS STRING) || ' 元'
  END AS explanation
FROM records AS r
