/* 收入低于低保标准未纳入 (income_below_standard) */
/* Finds households whose per-capita monthly income (latest income year / 12 / living */
/* members) is below the 低保 standard of their area type (yellow), or below */
/* :marginal_factor × the standard (blue), and who are not in the matching assistance. */
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
), enrolled AS (
  SELECT
    household_id,
    MAX(
      CASE
        WHEN category IN ('dibao', 'tekun_centralised', 'tekun_dispersed')
        THEN 1
        ELSE 0
      END
    ) AS assisted,
    MAX(CASE WHEN category = 'dibao_marginal' THEN 1 ELSE 0 END) AS marginal
  FROM enrolments
  WHERE
    status = 'active'
  GROUP BY
    household_id
), measured AS (
  SELECT
    h.household_id,
    h.member_count,
    COALESCE(i.year, YEAR(CAST('2026-01-01' AS DATE)) - 1) AS year,
    COALESCE(i.income, 0) / 12.0 / h.member_count AS per_capita,
    CASE WHEN h.area_type = 'urban' THEN 828.0 ELSE 616.0 END AS standard,
    1.5 AS factor,
    COALESCE(e.assisted, 0) AS assisted,
    COALESCE(e.marginal, 0) AS marginal
  FROM households AS h
  LEFT JOIN income AS i
    ON i.household_id = h.household_id
  LEFT JOIN enrolled AS e
    ON e.household_id = h.household_id
  WHERE
    h.member_count > 0
), banded AS (
  SELECT
    *,
    CASE
      WHEN per_capita < standard
      THEN 'yellow'
      WHEN per_capita < factor * standard AND marginal = 0
      THEN 'blue'
    END AS level
  FROM measured
  WHERE
    assisted = 0
)
SELECT
  b.household_id,
  'income_below_standard' AS rule_id,
  b.level,
  'income_below_standard:' || CAST(b.year AS STRING) || ':' || CASE WHEN b.level = 'yellow' THEN 'dibao' ELSE 'marginal' END AS event_key,
  CAST(CAST(b.year AS STRING) || '-12-31' AS DATE) AS event_date,
  TO_JSON(
    NAMED_STRUCT(
      'per_capita_monthly',
      ROUND(b.per_capita, 2),
      'standard',
      b.standard,
      'members',
      b.member_count,
      'income_year',
      b.year
    )
  ) AS evidence,
  '家庭月人均收入 ' || CAST(CAST(ROUND(b.per_capita) AS BIGINT) AS STRING) || ' 元，' || CASE
    WHEN b.level = 'yellow'
    THEN '低于低保标准 '
    ELSE '低于低保边缘标准（' || CAST(b.factor AS STRING) || '倍） '
  END || CAST(CAST(ROUND(b.standard) AS BIGINT) AS STRING) || ' 元，未纳入救助' AS explanation
FROM banded AS b
WHERE
  NOT b.level IS NULL
