/* 刚性支出困难 (rigid_expenditure) */
/* Finds households for which (income − medical − education expenditure of the income */
/* year) / 12 / living members is below the 低保 standard although income / 12 / members */
/* is not. Households in 低保, 特困 or 刚性支出困难 already are left out. */
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
), rigid AS (
  SELECT
    x.household_id,
    SUM(x.amount) AS amount
  FROM expenditures AS x
  JOIN income AS i
    ON i.household_id = x.household_id AND i.year = x.year
  WHERE
    x.kind IN ('medical', 'education')
  GROUP BY
    x.household_id
), excluded AS (
  SELECT DISTINCT
    household_id
  FROM enrolments
  WHERE
    status = 'active'
    AND category IN ('dibao', 'tekun_centralised', 'tekun_dispersed', 'rigid_expenditure')
), measured AS (
  SELECT
    h.household_id,
    i.year,
    i.income,
    r.amount AS rigid,
    i.income / 12.0 / h.member_count AS per_capita,
    (
      i.income - r.amount
    ) / 12.0 / h.member_count AS per_capita_after,
    CASE WHEN h.area_type = 'urban' THEN 828.0 ELSE 616.0 END AS standard
  FROM households AS h
  JOIN income AS i
    ON i.household_id = h.household_id
  JOIN rigid AS r
    ON r.household_id = h.household_id
  WHERE
    h.member_count > 0
    AND NOT h.household_id IN (
      SELECT
        household_id
      FROM excluded
    )
)
SELECT
  m.household_id,
  'rigid_expenditure' AS rule_id,
  'yellow' AS level,
  'rigid_expenditure:' || CAST(m.year AS STRING) AS event_key,
  CAST(CAST(m.year AS STRING) || '-12-31' AS DATE) AS event_date,
  TO_JSON(
    NAMED_STRUCT(
      'income',
      ROUND(m.income, 2),
      'rigid_expenditure',
      ROUND(m.rigid, 2),
      'per_capita_after',
      ROUND(m.per_capita_after, 2),
      'standard',
      m.standard,
      'income_year',
      m.year
    )
  ) AS evidence,
  '扣除医疗、教育刚性支出 ' || CAST(CAST(ROUND(m.rigid) AS BIGINT) AS STRING) || ' 元后，月人均 ' || CAST(CAST(ROUND(m.per_capita_after) AS BIGINT) AS STRING) || ' 元，低于低保标准 ' || CAST(CAST(ROUND(m.standard) AS BIGINT) AS STRING) || ' 元' AS explanation
FROM measured AS m
WHERE
  m.per_capita_after < m.standard AND m.per_capita >= m.standard
