/* 新增重度残疾 (severe_disability) */
/* Finds disability registrations in the window that make a person severely disabled: */
/* grade ≤ :severe_grade, or ≤ :mental_grade for mental/intellectual disability, when the */
/* registry does not already hold that grade or a more severe one. The most severe such */
/* registration of a person is the event. */
WITH new_grades AS (
  SELECT
    household_id,
    person_id,
    registered_on,
    grade,
    disability_type,
    previous_grade
  FROM (
    SELECT
      r.household_id,
      r.person_id,
      r.registered_on,
      r.grade,
      r.disability_type,
      p.disability_grade AS previous_grade,
      ROW_NUMBER() OVER (PARTITION BY r.person_id ORDER BY r.grade NULLS LAST, r.registered_on NULLS LAST) AS _w
    FROM disability_registration AS r
    JOIN persons AS p
      ON p.person_id = r.person_id
    JOIN households AS h
      ON h.household_id = r.household_id
    WHERE
      r.action IN ('issued', 'reassessed')
      AND r.registered_on >= CAST('2026-01-01' AS DATE) - INTERVAL '365' DAY
      AND r.registered_on < CAST('2026-01-01' AS DATE)
      AND (
        r.grade <= 2
        OR (
          r.grade <= 4 AND r.disability_type IN ('mental', 'intellectual')
        )
      )
      AND (
        p.disability_grade IS NULL OR p.disability_grade > r.grade
      )
  ) AS _t
  WHERE
    _w = 1
), workers AS (
  SELECT
    n.person_id,
    COUNT(o.person_id) AS working_age
  FROM new_grades AS n
  LEFT JOIN persons AS o
    ON o.household_id = n.household_id
    AND o.person_id <> n.person_id
    AND NOT o.is_deceased
    AND o.birth_date <= CAST('2026-01-01' AS DATE) - INTERVAL '18' YEAR
    AND o.birth_date > CAST('2026-01-01' AS DATE) - INTERVAL '60' YEAR
  GROUP BY
    n.person_id
)
SELECT
  n.household_id,
  'severe_disability' AS rule_id,
  CASE WHEN w.working_age = 0 THEN 'red' ELSE 'yellow' END AS level,
  'severe_disability:' || CAST(n.person_id AS STRING) || ':' || CAST(n.grade AS STRING) AS event_key,
  n.registered_on AS event_date,
  TO_JSON(
    NAMED_STRUCT(
      'person_id',
      n.person_id,
      'grade',
      n.grade,
      'disability_type',
      n.disability_type,
      'previous_grade',
      n.previous_grade,
      'working_age_members',
      w.working_age
    )
  ) AS evidence,
  '家庭成员新认定为' || CAST(n.grade AS STRING) || '级残疾（' || n.disability_type || '）' || CASE WHEN w.working_age = 0 THEN '，家中无其他劳动年龄成员' ELSE '' END AS explanation
FROM new_grades AS n
JOIN workers AS w
  ON w.person_id = n.person_id
