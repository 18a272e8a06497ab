-- 劳动年龄成员死亡 (working_age_death)
-- Finds deaths in the window of members aged :min_age ≤ age < :max_age. Age is counted
-- in whole years on the day of death. Dependants are the other living members under 18
-- or aged 60 and over on :as_of.
WITH deaths AS (
    SELECT
        d.household_id,
        d.person_id,
        d.died_on,
        YEAR(d.died_on) - YEAR(p.birth_date)
        - CASE
            WHEN MONTH(d.died_on) * 100 + DAY(d.died_on) < MONTH(p.birth_date) * 100 + DAY(p.birth_date)
                THEN 1
            ELSE 0
        END AS age
    FROM death AS d
    JOIN persons AS p ON p.person_id = d.person_id
    WHERE d.died_on >= :as_of - :window_days AND d.died_on < :as_of
    -- two departments may report one death: the earliest record is the event
    QUALIFY ROW_NUMBER() OVER (PARTITION BY d.person_id ORDER BY d.died_on) = 1
),
others AS (
    SELECT
        x.person_id AS deceased_id,
        SUM(
            CASE
                WHEN o.person_id <> x.person_id AND NOT o.is_deceased
                     AND (o.birth_date > :as_of - INTERVAL 18 YEAR
                          OR o.birth_date <= :as_of - INTERVAL 60 YEAR)
                    THEN 1
                ELSE 0
            END
        ) AS dependants
    FROM deaths AS x
    JOIN persons AS o ON o.household_id = x.household_id
    GROUP BY x.person_id
)
SELECT
    x.household_id,
    'working_age_death' AS rule_id,
    CASE WHEN o.dependants > 0 THEN 'red' ELSE 'yellow' END AS level,
    'working_age_death:' || CAST(x.person_id AS VARCHAR) AS event_key,
    x.died_on AS event_date,
    json_object('person_id', x.person_id, 'age', x.age, 'dependants', o.dependants) AS evidence,
    '劳动年龄家庭成员死亡（' || CAST(x.age AS VARCHAR) || ' 岁），家中另有未成年人或老人 '
    || CAST(o.dependants AS VARCHAR) || ' 人' AS explanation
FROM deaths AS x
JOIN others AS o ON o.deceased_id = x.person_id
JOIN households AS h ON h.household_id = x.household_id
WHERE x.age >= :min_age AND x.age < :max_age
