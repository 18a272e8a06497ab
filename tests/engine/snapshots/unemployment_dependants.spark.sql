/* 失业且有被抚养人 (unemployment_dependants) */
/* Finds unemployment registrations in the window that were not ended afterwards, in */
/* households with at least :min_dependants other members under 18 or aged 60 and over. */
WITH open_registrations AS (
  SELECT
    u.household_id,
    u.person_id,
    u.registered_on
  FROM unemployment_registration AS u
  WHERE
    u.action = 'registered'
    AND u.registered_on >= CAST('2026-01-01' AS DATE) - INTERVAL '365' DAY
    AND u.registered_on < CAST('2026-01-01' AS DATE)
    AND NOT EXISTS(
      SELECT
        1
      FROM unemployment_registration AS e
      WHERE
        e.person_id = u.person_id
        AND e.action = 'ended'
        AND e.registered_on >= u.registered_on
        AND e.registered_on < CAST('2026-01-01' AS DATE)
    )
), household_view AS (
  SELECT
    r.household_id,
    r.person_id,
    r.registered_on,
    SUM(
      CASE
        WHEN o.person_id <> r.person_id
        AND (
          o.birth_date > CAST('2026-01-01' AS DATE) - INTERVAL '18' YEAR
          OR o.birth_date <= CAST('2026-01-01' AS DATE) - INTERVAL '60' YEAR
        )
        THEN 1
        ELSE 0
      END
    ) AS dependants,
    SUM(
      CASE
        WHEN o.person_id <> r.person_id
        AND o.birth_date <= CAST('2026-01-01' AS DATE) - INTERVAL '18' YEAR
        AND o.birth_date > CAST('2026-01-01' AS DATE) - INTERVAL '60' YEAR
        THEN 1
        ELSE 0
      END
    ) AS working_age
  FROM open_registrations AS r
  JOIN persons AS o
    ON o.household_id = r.household_id AND NOT o.is_deceased
  GROUP BY
    r.household_id,
    r.person_id,
    r.registered_on
)
SELECT
  v.household_id,
  'unemployment_dependants' AS rule_id,
  CASE WHEN v.working_age = 0 THEN 'red' ELSE 'yellow' END AS level,
  'unemployment_dependants:' || CAST(v.person_id AS STRING) || ':' || CAST(v.registered_on AS STRING) AS event_key,
  v.registered_on AS event_date,
  TO_JSON(
    NAMED_STRUCT('person_id', v.person_id, 'dependants', v.dependants, 'working_age_members', v.working_age)
  ) AS evidence,
  '家庭成员登记失业，家中有未成年人或老人 ' || CAST(v.dependants AS STRING) || ' 人' || CASE WHEN v.working_age = 0 THEN '，无其他劳动年龄成员' ELSE '' END AS explanation
FROM household_view AS v
JOIN households AS h
  ON h.household_id = v.household_id
WHERE
  v.dependants >= 1
