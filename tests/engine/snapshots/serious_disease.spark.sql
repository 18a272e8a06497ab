/* 重特大疾病住院 (serious_disease) */
/* Finds inpatient stays in the window for a disease on :icd10_codes (first three */
/* characters of the main diagnosis). One event per person and disease: the key carries */
/* no date, so later stays for the same disease never warn again. */
WITH stays AS (
  SELECT
    m.household_id,
    m.person_id,
    SUBSTRING(m.icd10, 1, 3) AS icd3,
    m.settled_on,
    m.settlement_id,
    m.out_of_pocket
  FROM medical_settlement AS m
  WHERE
    m.care_type = 'inpatient'
    AND SUBSTRING(m.icd10, 1, 3) IN (
      'C15',
      'C16',
      'C18',
      'C20',
      'C22',
      'C25',
      'C34',
      'C50',
      'C53',
      'C56',
      'C61',
      'C67',
      'C71',
      'C91',
      'C92',
      'D61',
      'F20',
      'F31',
      'G12',
      'G35',
      'I21',
      'I42',
      'I61',
      'I63',
      'N18',
      'Q20',
      'Q21',
      'Q22',
      'Q23',
      'Q24'
    )
    AND m.settled_on >= CAST('2026-01-01' AS DATE) - INTERVAL '365' DAY
    AND m.settled_on < CAST('2026-01-01' AS DATE)
), per_disease AS (
  SELECT
    household_id,
    person_id,
    icd3,
    MIN(settled_on) AS first_on,
    COUNT(*) AS stays,
    SUM(out_of_pocket) AS out_of_pocket,
    MAX(out_of_pocket) AS largest
  FROM stays
  GROUP BY
    household_id,
    person_id,
    icd3
)
SELECT
  d.household_id,
  'serious_disease' AS rule_id,
  CASE WHEN d.largest >= 20000.0 THEN 'red' ELSE 'yellow' END AS level,
  'serious_disease:' || CAST(d.person_id AS STRING) || ':' || d.icd3 AS event_key,
  d.first_on AS event_date,
  TO_JSON(
    NAMED_STRUCT(
      'person_id',
      d.person_id,
      'icd10',
      d.icd3,
      'stays',
      d.stays,
      'out_of_pocket',
      ROUND(d.out_of_pocket, 2),
      'largest_out_of_pocket',
      ROUND(d.largest, 2)
    )
  ) AS evidence,
  '家庭成员因重特大疾病（' || d.icd3 || '）住院 ' || CAST(d.stays AS STRING) || ' 次，自付 ' || CAST(CAST(ROUND(d.out_of_pocket) AS BIGINT) AS STRING) || ' 元' AS explanation
FROM per_disease AS d
JOIN households AS h
  ON h.household_id = d.household_id
