/* 困难指数监测线 (hardship_score) */
/* Ranks every household with living members by the hardship score (higher = harder up; */
/* ties by household id) and warns those on the bottom :low_income_line (yellow) or */
/* :difficulty_line (blue) share that have no active enrolment of any category. */
/* Score = 2.0 × max(0, 2 − per-capita income / standard) */
/*       + 1.5 × (no member aged 18–59 with full labour capacity) */
/*       + 0.8 × min(members with disability grade 1–2, 2) */
/*       + 0.8 × min(members with a serious illness, 2) */
/*       + 1.0 × (members under 18 or 60 and over) / members */
/*       + 1.0 × min(out-of-pocket medical spending in the window / max(income, 1), 2) */
/*       + 1.0 × (latest housing rating in the window is C or D) */
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
), members AS (
  SELECT
    p.household_id,
    SUM(
      CASE
        WHEN p.labour_capacity = 'full'
        AND p.birth_date <= CAST('2026-01-01' AS DATE) - INTERVAL '18' YEAR
        AND p.birth_date > CAST('2026-01-01' AS DATE) - INTERVAL '60' YEAR
        THEN 1
        ELSE 0
      END
    ) AS workers,
    SUM(CASE WHEN p.disability_grade <= 2 THEN 1 ELSE 0 END) AS severe,
    SUM(
      CASE
        WHEN p.birth_date > CAST('2026-01-01' AS DATE) - INTERVAL '18' YEAR
        OR p.birth_date <= CAST('2026-01-01' AS DATE) - INTERVAL '60' YEAR
        THEN 1
        ELSE 0
      END
    ) AS dependants
  FROM persons AS p
  WHERE
    NOT p.is_deceased
  GROUP BY
    p.household_id
), ill AS (
  SELECT
    i.household_id,
    COUNT(DISTINCT i.person_id) AS seriously_ill
  FROM illnesses AS i
  JOIN persons AS p
    ON p.person_id = i.person_id AND NOT p.is_deceased
  WHERE
    i.is_serious
  GROUP BY
    i.household_id
), medical AS (
  SELECT
    m.household_id,
    SUM(m.out_of_pocket) AS out_of_pocket
  FROM medical_settlement AS m
  WHERE
    m.settled_on >= CAST('2026-01-01' AS DATE) - INTERVAL '365' DAY
    AND m.settled_on < CAST('2026-01-01' AS DATE)
  GROUP BY
    m.household_id
), housing AS (
  SELECT
    household_id,
    MAX(CASE WHEN rating IN ('C', 'D') THEN 1 ELSE 0 END) AS unsafe
  FROM (
    SELECT
      household_id,
      rating
    FROM (
      SELECT
        r.household_id,
        r.rating,
        ROW_NUMBER() OVER (PARTITION BY r.house_id ORDER BY r.rated_on DESC, r.rating DESC) AS _w
      FROM housing_safety AS r
      WHERE
        r.rated_on >= CAST('2026-01-01' AS DATE) - INTERVAL '365' DAY
        AND r.rated_on < CAST('2026-01-01' AS DATE)
    ) AS _t
    WHERE
      _w = 1
  ) AS latest
  GROUP BY
    household_id
), enrolled AS (
  SELECT DISTINCT
    household_id
  FROM enrolments
  WHERE
    status = 'active'
), terms AS (
  SELECT
    h.household_id,
    h.member_count,
    COALESCE(i.income, 0) AS income,
    2.0 * GREATEST(
      0.0,
      2.0 - COALESCE(i.income, 0) / 12.0 / h.member_count / (
        CASE WHEN h.area_type = 'urban' THEN 828.0 ELSE 616.0 END
      )
    ) AS income_term,
    CASE WHEN m.workers = 0 THEN 1.5 ELSE 0.0 END AS no_worker_term,
    0.8 * LEAST(m.severe, 2) AS disability_term,
    0.8 * LEAST(COALESCE(s.seriously_ill, 0), 2) AS illness_term,
    1.0 * m.dependants / h.member_count AS dependants_term,
    LEAST(COALESCE(x.out_of_pocket, 0) / GREATEST(COALESCE(i.income, 0), 1), 2.0) AS medical_term,
    CASE WHEN COALESCE(u.unsafe, 0) = 1 THEN 1.0 ELSE 0.0 END AS housing_term
  FROM households AS h
  JOIN members AS m
    ON m.household_id = h.household_id
  LEFT JOIN income AS i
    ON i.household_id = h.household_id
  LEFT JOIN ill AS s
    ON s.household_id = h.household_id
  LEFT JOIN medical AS x
    ON x.household_id = h.household_id
  LEFT JOIN housing AS u
    ON u.household_id = h.household_id
  WHERE
    h.member_count > 0
), ranked AS (
  SELECT
    t.*,
    ROUND(
      t.income_term + t.no_worker_term + t.disability_term + t.illness_term + t.dependants_term + t.medical_term + t.housing_term,
      6
    ) AS score,
    ROW_NUMBER() OVER (
      ORDER BY ROUND(
        t.income_term + t.no_worker_term + t.disability_term + t.illness_term + t.dependants_term + t.medical_term + t.housing_term,
        6
      ) DESC, t.household_id NULLS LAST
    ) AS score_rank,
    COUNT(*) OVER () AS ranked_households
  FROM terms AS t
), lined AS (
  SELECT
    r.*,
    CAST(ROUND(r.score * 100) AS BIGINT) AS score_cents, /* two decimals for the explanation, formatted the same way on every engine */
    CASE
      WHEN r.score_rank <= CEIL(0.03 * r.ranked_households)
      THEN 'yellow'
      WHEN r.score_rank <= CEIL(0.1 * r.ranked_households)
      THEN 'blue'
    END AS level,
    CAST(ROUND(0.03 * 1000) AS BIGINT) AS yellow_permille, /* the lines in tenths of a percent, for the explanation (3 % → 30) */
    CAST(ROUND(0.1 * 1000) AS BIGINT) AS blue_permille
  FROM ranked AS r
  WHERE
    NOT r.household_id IN (
      SELECT
        household_id
      FROM enrolled
    )
)
SELECT
  l.household_id,
  'hardship_score' AS rule_id,
  l.level,
  'hardship_score:' || CASE WHEN l.level = 'yellow' THEN 'low_income' ELSE 'difficulty' END || ':' || CAST(YEAR(CAST('2026-01-01' AS DATE)) AS STRING) AS event_key,
  CAST('2026-01-01' AS DATE) AS event_date,
  TO_JSON(
    NAMED_STRUCT(
      'score',
      ROUND(l.score, 3),
      'rank',
      l.score_rank,
      'ranked_households',
      l.ranked_households,
      'income_term',
      ROUND(l.income_term, 3),
      'no_worker_term',
      ROUND(l.no_worker_term, 3),
      'disability_term',
      ROUND(l.disability_term, 3),
      'illness_term',
      ROUND(l.illness_term, 3),
      'dependants_term',
      ROUND(l.dependants_term, 3),
      'medical_term',
      ROUND(l.medical_term, 3),
      'housing_term',
      ROUND(l.housing_term, 3)
    )
  ) AS evidence,
  '困难指数 ' || CAST(l.score_cents DIV 100 AS STRING) || '.' || LPAD(CAST(l.score_cents % 100 AS STRING), 2, '0') || '，全县排名第 ' || CAST(l.score_rank AS STRING) || ' 位，位于' || CASE WHEN l.level = 'yellow' THEN '低收入监测线' ELSE '相对困难监测线' END || '（最困难' || CAST(l.line_permille DIV 10 AS STRING) || CASE
    WHEN l.line_permille % 10 = 0
    THEN ''
    ELSE '.' || CAST(l.line_permille % 10 AS STRING)
  END || '%）内，未纳入任何救助' AS explanation
FROM (
  SELECT
    *,
    CASE WHEN level = 'yellow' THEN yellow_permille ELSE blue_permille END AS line_permille
  FROM lined
) AS l
WHERE
  NOT l.level IS NULL
