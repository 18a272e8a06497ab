"""Demo traffic lights: the demo month's scorecards for the county (the demo seeds its
orders so that one provider earns yellow and one red), then the story continues: the red
provider's exit review is left open for the visitor to decide; the yellow provider's
manager has submitted a rectification report for the bureau to accept or reject.
Idempotent: a second call recomputes the same scorecards and submits nothing twice."""

from __future__ import annotations

import datetime
from typing import Any

from jiuzhu.accounts.models import User
from jiuzhu.regions.models import Region
from jiuzhu.services import choices as sc
from jiuzhu.supervision import choices as c
from jiuzhu.supervision import light_selectors as sel
from jiuzhu.supervision.models import Rectification
from jiuzhu.supervision.services.light_decisions import provider_managers, rectification_submit
from jiuzhu.supervision.services.scorecards import scorecards_run_detailed

REPORT = (
    "针对本月满意度偏低、个别服务超时的问题，我中心已完成以下整改：\n"
    "一、召开全体护理员专题会议，逐单复盘本月低评分服务，明确“先联系、再上门、按清单服务”的要求；\n"
    "二、调整排班，增加两名护理员负责重点片区，保证上门时间不晚于约定时间；\n"
    "三、服务结束后由站长电话回访服务对象，发现问题当日处理；\n"
    "四、组织一次护理技能和服务礼仪培训（12人参加），考核合格后上岗。\n"
    "下月起每周向民政局报送服务质量自查情况。"
)


def seed_lights(
    *,
    county_code: str,
    period_start: datetime.date,
    period_end: datetime.date,
    actor: User | None,
) -> dict[str, Any]:
    county = Region.objects.get(code=county_code)
    # The run is the bureau's when the actor may decide lights, else the platform's.
    runner = actor if actor is not None and sel.may_decide_county(actor, county_code) else None
    result = scorecards_run_detailed(
        county=county, period_start=period_start, period_end=period_end, actor=runner
    )
    submitted: list[str] = []
    for score in result.scores:
        provider = score.provider
        provider.refresh_from_db()
        if provider.light != sc.Light.YELLOW:
            continue
        rectification = Rectification.objects.filter(
            provider=provider, status=c.RectificationStatus.OPEN
        ).first()
        managers = provider_managers(provider)
        if rectification is None or not managers:
            continue
        rectification_submit(actor=managers[0], rectification=rectification, report=REPORT)
        submitted.append(provider.name)
    lights: dict[str, str] = {}
    for score in result.scores:
        score.provider.refresh_from_db()
        lights[score.provider.name] = score.provider.light
    return {
        "period": [period_start.isoformat(), period_end.isoformat()],
        "lights": lights,
        "earned": {s.provider.name: s.light for s in result.scores},
        "decisions": len(result.decisions),
        "rectification_reports": submitted,
        "exit_reviews_open": [
            s.provider.name for s in result.scores if sel.open_exit_review(s.provider) is not None
        ],
    }
