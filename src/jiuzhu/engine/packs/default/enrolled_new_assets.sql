-- 在保家庭新增车辆/房产/经营主体 (enrolled_new_assets)
-- Finds vehicles (kinds in :vehicle_kinds), property and businesses (kinds in
-- :business_kinds) registered by a member of an enrolled household after its enrolment
-- started, within the window. One event per asset.
WITH enrolled AS (
    SELECT household_id, MIN(start_date) AS since
    FROM enrolments
    WHERE status = 'active'
      AND category IN ('dibao', 'tekun_centralised', 'tekun_dispersed', 'dibao_marginal')
    GROUP BY household_id
),
new_assets AS (
    SELECT v.household_id, v.person_id, v.registered_on AS on_date,
           'vehicle' AS asset, v.plate AS asset_id, v.kind AS detail
    FROM vehicle_registration AS v
    WHERE v.action IN ('registered', 'transferred_in') AND v.kind IN :vehicle_kinds
    UNION ALL
    SELECT p.household_id, p.person_id, p.registered_on,
           'property', p.certificate_number, p."use"
    FROM property_registration AS p
    WHERE p.action = 'acquired'
    UNION ALL
    SELECT b.household_id, b.person_id, b.registered_on,
           'business', b.credit_code, b.kind
    FROM business_registration AS b
    WHERE b.action = 'registered' AND b.kind IN :business_kinds
),
hits AS (
    SELECT a.household_id, a.person_id, a.on_date, a.asset, a.asset_id, a.detail,
           e.since AS enrolled_since
    FROM new_assets AS a
    JOIN enrolled AS e ON e.household_id = a.household_id
    JOIN households AS h ON h.household_id = a.household_id
    WHERE a.on_date > e.since
      AND a.on_date >= :as_of - :window_days AND a.on_date < :as_of
    -- the same plate or certificate may be recorded twice (registration, transfer)
    QUALIFY ROW_NUMBER() OVER (
        PARTITION BY a.household_id, a.asset, a.asset_id ORDER BY a.on_date, a.person_id
    ) = 1
)
SELECT
    a.household_id,
    'enrolled_new_assets' AS rule_id,
    'yellow' AS level,
    'enrolled_new_assets:' || a.asset || ':' || a.asset_id AS event_key,
    a.on_date AS event_date,
    json_object(
        'person_id', a.person_id,
        'asset', a.asset,
        'asset_id', a.asset_id,
        'detail', a.detail,
        'enrolled_since', CAST(a.enrolled_since AS VARCHAR)
    ) AS evidence,
    '在保家庭成员纳入救助后新增'
    || CASE a.asset WHEN 'vehicle' THEN '机动车' WHEN 'property' THEN '房产' ELSE '市场主体' END
    || '（' || a.detail || '），需复核' AS explanation
FROM hits AS a
