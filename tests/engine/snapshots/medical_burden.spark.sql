/* 大额医疗自付支出 (medical_burden) */
/* Finds households whose out-of-pocket medical spending in the window reached both */
/* :min_amount yuan and :share × their yearly income. The event date is the settlement at */
/* which the running total first crossed that line; the event key is its year, so the */
/* same hardship does not warn again when more bills arrive. */
WITH income AS (
  SELECT
    household_id,
    year,
    income
  FROM (
    SELECT
      household_id,
      year,
      SUM(annual_amount) AS income,
      ROW_NUMBER() OVER (PARTITION BY household_id ORDER BY year DESC) AS _w
    FROM incomes
    GROUP BY
      household_id,
      year
  ) AS _t
  WHERE
    _w = 1
), spent AS (
  SELECT
    m.household_id,
    m.settled_on,
    m.settlement_id,
    m.out_of_pocket
  FROM medical_settlement AS m
  WHERE
    m.settled_on >= CAST('2026-01-01' AS DATE) - INTERVAL '365' DAY
    AND m.settled_on < CAST('2026-01-01' AS DATE)
), large AS (
  SELECT
    s.household_id,
    SUM(s.out_of_pocket) AS total,
    COUNT(*) AS settlements
  FROM spent AS s
  JOIN households AS h
    ON h.household_id = s.household_id
  GROUP BY
    s.household_id,
    h.region_code
  HAVING
    SUM(s.out_of_pocket) >= 10000.0
), burden AS (
  SELECT
    l.household_id,
    l.total,
    l.settlements,
    COALESCE(i.income, 0) AS income,
    GREATEST(10000.0, 0.5 * COALESCE(i.income, 0)) AS line
  FROM large AS l
  LEFT JOIN income AS i
    ON i.household_id = l.household_id
  JOIN households AS h
    ON h.household_id = l.household_id
  WHERE
    l.total >= 0.5 * COALESCE(i.income, 0)
), running AS (
  SELECT
    s.household_id,
    s.settled_on,
    SUM(s.out_of_pocket) OVER (
      PARTITION BY s.household_id
      ORDER BY s.settled_on NULLS LAST, s.settlement_id NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS running_total,
    b.line
  FROM spent AS s
  JOIN burden AS b
    ON b.household_id = s.household_id
), crossed AS (
  SELECT
    household_id,
    MIN(settled_on) AS crossed_on
  FROM running
  WHERE
    running_total >= line
  GROUP BY
    household_id
)
SELECT
  b.household_id,
  'medical_burden' AS rule_id,
  CASE WHEN b.total >= 1.0 * b.income THEN 'red' ELSE 'yellow' END AS level,
  'medical_burden:' || CAST(YEAR(c.crossed_on) AS STRING) AS event_key,
  c.crossed_on AS event_date,
  TO_JSON(
    NAMED_STRUCT(
      'out_of_pocket',
      ROUND(b.total, 2),
      'household_income',
      ROUND(b.income, 2),
      'share_of_income',
      CASE WHEN b.income > 0 THEN ROUND(b.total / b.income, 2) END,
      'settlements',
      b.settlements
    )
  ) AS evidence,
  '近一年个人自付医疗费用 ' || CAST(CAST(ROUND(b.total) AS BIGINT) AS STRING) || ' 元，' || CASE
    WHEN b.income > 0
    THEN '为家庭年收入的 ' || CAST(CAST(ROUND(100 * b.total / b.income) AS BIGINT) AS STRING) || '%'
    ELSE '家庭无登记收入'
  END AS explanation
FROM burden AS b
JOIN crossed AS c
  ON c.household_id = b.household_id
JOIN households AS h
  ON h.household_id = b.household_id
