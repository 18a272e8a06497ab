"""Service orders and their record: placing (点单), then — once dispatch has the order
accepted — worker, check-in, the item's steps, check-out, rating, and the other ends
(cancelled, no-show, disputed). Each step is on the household timeline, without the
coordinates or the photos themselves."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from jiuzhu.assessment.models import Assessment
from jiuzhu.channels.models import Notification
from jiuzhu.registry.models import TimelineEvent
from jiuzhu.services.models import DispatchOffer, EntitlementDebit, Need, Provider, ServiceOrder
from jiuzhu.services.services import orders as svc
from jiuzhu.services.services.needs import need_create
from jiuzhu.services.services.vouchers import voucher_balance
from tests.conftest import Family, Personas
from tests.services.conftest import item
from tests.services.order_factories import (
    FAR,
    HOME,
    JPEG,
    SERVICE_DAY,
    accept,
    agreed_plan,
    plan_item_of,
    project_need,
    provider_with_staff,
    voucher_need,
)


@pytest.fixture
def voucher_order(personas: Personas, family: Family, assessed: Assessment) -> ServiceOrder:
    plan = agreed_plan(personas, family, assessed, [("hair_cut", 3, 1)])
    need = voucher_need(personas, family, plan_item_of(plan, "hair_cut"))
    return svc.order_create(actor=None, need=need, service_date=SERVICE_DAY)


@pytest.fixture
def team() -> tuple[Provider, Any, Any]:
    return provider_with_staff()


def _kinds(family: Family) -> list[str]:
    return list(
        TimelineEvent.objects.filter(household=family.household, kind__startswith="services.order_")
        .order_by("occurred_at", "id")
        .values_list("kind", flat=True)
    )


def _serve(order: ServiceOrder, worker: Any, *, tick: bool = True) -> ServiceOrder:
    order = svc.order_check_in(actor=worker, order=order, lat=HOME[0], lon=HOME[1])
    if tick:
        for index in range(len(order.checklist)):
            order = svc.order_tick_step(actor=worker, order=order, index=index)
    return svc.order_check_out(actor=worker, order=order, lat=HOME[0], lon=HOME[1])


def test_an_order_copies_the_need(
    personas: Personas, family: Family, voucher_order: ServiceOrder
) -> None:
    need = voucher_order.need
    # then the order carries what dispatch and the record need, from the need
    assert voucher_order.household_id == family.household.pk
    assert voucher_order.person_id == family.head.pk
    assert voucher_order.region_id == need.region_id and voucher_order.item.code == "hair_cut"
    assert (voucher_order.lat, voucher_order.lon) == HOME
    assert voucher_order.plan_item_id == need.plan_item_id
    assert voucher_order.plan_id == need.plan_item.plan_id
    assert (voucher_order.quantity, voucher_order.unit_price) == (1, Decimal(20))
    assert voucher_order.dispatch_due_at == need.assign_due_at
    assert voucher_order.finish_due_at == need.finish_due_at
    assert voucher_order.created_by is None  # the platform
    need.refresh_from_db()
    assert need.status == "dispatching"
    assert _kinds(family) == ["services.order_placed"]


def test_only_dispatch_needs_with_an_item_are_ordered(personas: Personas, family: Family) -> None:
    wish = need_create(
        actor=personas.village_assistant,
        household=family.household,
        source="wish",
        route="claim",
        funding="self_claim",
        title="冬天的棉被",
    )
    with pytest.raises(ValidationError) as refused:
        svc.order_create(actor=personas.village_assistant, need=wish, service_date=SERVICE_DAY)
    assert "need" in refused.value.message_dict
    need = project_need(personas, family)
    Need.objects.filter(pk=need.pk).update(status="fulfilled")
    with pytest.raises(ValidationError):
        svc.order_create(actor=personas.village_assistant, need=need, service_date=SERVICE_DAY)
    with pytest.raises(ValidationError) as bad_quantity:
        svc.order_create(
            actor=None,
            need=project_need(personas, family),
            service_date=SERVICE_DAY,
            quantity="1.5",
        )
    assert "quantity" in bad_quantity.value.message_dict
    assert not ServiceOrder.objects.exists()


def test_the_whole_record_from_worker_to_rating(
    personas: Personas,
    family: Family,
    voucher_order: ServiceOrder,
    team: tuple[Provider, Any, Any],
) -> None:
    provider, manager, worker = team
    order = accept(voucher_order, provider)
    # the manager assigns the care worker
    order = svc.order_assign_worker(actor=manager, order=order, worker=worker)
    # the worker checks in at the door with a photo
    photo = SimpleUploadedFile("door.jpg", JPEG, content_type="image/jpeg")
    order = svc.order_check_in(actor=worker, order=order, lat=HOME[0], lon=HOME[1], photo=photo)
    assert order.status == "in_service" and order.check_in_photo
    steps = item("hair_cut").steps
    assert [s["action"] for s in order.checklist] == [s["action"] for s in steps]
    assert not any(s["done"] for s in order.checklist)
    need = Need.objects.get(pk=order.need_id)
    assert need.status == "in_service"
    # check-out is refused while steps are open and no note says why
    for index in range(len(steps) - 1):
        order = svc.order_tick_step(actor=worker, order=order, index=index)
    with pytest.raises(ValidationError) as open_steps:
        svc.order_check_out(actor=worker, order=order, lat=HOME[0], lon=HOME[1])
    assert "note" in open_steps.value.message_dict
    order = svc.order_tick_step(actor=worker, order=order, index=len(steps) - 1, note="老人满意")
    order = svc.order_check_out(actor=worker, order=order, lat=HOME[0], lon=HOME[1])
    assert order.status == "checked_out" and order.checklist[-1]["note"] == "老人满意"
    # the assistant records the rating given by phone
    order = svc.order_rate(
        actor=personas.village_assistant, order=order, rating=4, comment="理得很好", how="phone"
    )
    # then
    assert (order.status, order.rating, order.rated_how) == ("closed", 4, "phone")
    assert order.rated_recorded_by == personas.village_assistant and order.closed_at
    provider.refresh_from_db()
    assert (provider.rating_sum, provider.rating_count) == (4, 1)
    need.refresh_from_db()
    assert (need.status, need.confirmed_by) == ("fulfilled", "beneficiary")
    assert _kinds(family) == [
        "services.order_placed",
        "services.order_worker_assigned",
        "services.order_checked_in",
        "services.order_checked_out",
        "services.order_rated",
    ]
    # the timeline says a position and a photo exist, never what they are
    events = TimelineEvent.objects.filter(object_type="services.order", object_id=str(order.pk))
    check_in = events.get(kind="services.order_checked_in")
    assert check_in.detail["gps"] is True and check_in.detail["photo"] is True
    assert check_in.detail["check_in_distance"] == 0 and check_in.detail["far"] is False
    assert check_in.actor == worker
    for event in events:
        text = str(event.detail) + event.summary
        assert "27.6" not in text and "115.16" not in text and ".jpg" not in text
    # the voucher stays used by a served order
    assert voucher_balance(order.plan, on=SERVICE_DAY).used == 20


def test_a_far_check_in_is_recorded_with_its_distance(
    family: Family, voucher_order: ServiceOrder, team: tuple[Provider, Any, Any]
) -> None:
    provider, _manager, worker = team
    order = accept(voucher_order, provider, worker)
    # when the worker checks in 3 km away
    order = svc.order_check_in(actor=worker, order=order, lat=FAR[0], lon=FAR[1])
    # then it is accepted, with the distance on the timeline
    assert order.status == "in_service"
    event = TimelineEvent.objects.get(kind="services.order_checked_in")
    assert event.detail["far"] is True and 2.9 < event.detail["check_in_distance"] < 3.1


def test_who_may_check_in(
    voucher_order: ServiceOrder, team: tuple[Provider, Any, Any], personas: Personas
) -> None:
    provider, manager, worker = team
    _other, _other_manager, stranger = provider_with_staff("峡江县夕阳红养老服务中心")
    order = accept(voucher_order, provider)
    # another provider's worker and staff without a provider may not
    for outsider in (stranger, personas.village_assistant, personas.provider):
        with pytest.raises(PermissionDenied):
            svc.order_check_in(actor=outsider, order=order, lat=HOME[0], lon=HOME[1])
    # nobody assigned: any active care worker of the provider, who becomes the worker
    order = svc.order_check_in(actor=worker, order=order, lat=HOME[0], lon=HOME[1])
    assert order.worker == worker
    # and only that worker ticks the steps
    with pytest.raises(PermissionDenied):
        svc.order_tick_step(actor=manager, order=order, index=0)
    # a position is required; a photo must be a photo
    fresh = accept(_second_order(voucher_order), provider, manager)
    with pytest.raises(ValidationError) as no_position:
        svc.order_check_in(actor=manager, order=fresh, lat="", lon="")
    assert "lat" in no_position.value.message_dict
    with pytest.raises(ValidationError) as not_photo:
        svc.order_check_in(
            actor=manager,
            order=fresh,
            lat=HOME[0],
            lon=HOME[1],
            photo=SimpleUploadedFile("x.jpg", b"%PDF-1.4 not a photo"),
        )
    assert "photo" in not_photo.value.message_dict


def _second_order(order: ServiceOrder) -> ServiceOrder:
    return svc.order_create(actor=None, need=order.need, service_date=SERVICE_DAY)


def test_a_note_explains_skipped_steps(
    voucher_order: ServiceOrder, team: tuple[Provider, Any, Any]
) -> None:
    provider, _manager, worker = team
    order = accept(voucher_order, provider, worker)
    order = svc.order_check_in(actor=worker, order=order, lat=HOME[0], lon=HOME[1])
    order = svc.order_tick_step(actor=worker, order=order, index=0)
    order = svc.order_check_out(
        actor=worker, order=order, lat=HOME[0], lon=HOME[1], note="老人头皮有伤口，未洗发"
    )
    assert order.status == "checked_out" and order.service_note.startswith("老人")
    event = TimelineEvent.objects.get(kind="services.order_checked_out")
    assert (event.detail["steps_done"], event.detail["steps"]) == (1, len(order.checklist))


def test_cancel_releases_the_voucher_and_the_need_can_be_ordered_again(
    personas: Personas, voucher_order: ServiceOrder, team: tuple[Provider, Any, Any]
) -> None:
    provider, manager, worker = team
    order = accept(voucher_order, provider, worker)
    order = svc.order_check_in(actor=worker, order=order, lat=HOME[0], lon=HOME[1])
    # the provider may no longer cancel once checked in; a reason is required
    with pytest.raises(ValidationError):
        svc.order_cancel(actor=manager, order=order, reason="人手不够")
    with pytest.raises(ValidationError) as no_reason:
        svc.order_cancel(actor=personas.village_assistant, order=order, reason=" ")
    assert "reason" in no_reason.value.message_dict
    # staff may, with a reason
    order = svc.order_cancel(actor=personas.village_assistant, order=order, reason="老人突发住院")
    assert (order.status, order.ended_by) == ("cancelled", personas.village_assistant)
    assert EntitlementDebit.objects.filter(order=order, kind="release").count() == 1
    need = Need.objects.get(pk=order.need_id)
    assert need.status == "dispatching"
    again = svc.order_create(actor=None, need=need, service_date=SERVICE_DAY)
    assert again.status == "pending"


def test_the_provider_cancels_before_check_in_and_offers_are_withdrawn(
    personas: Personas, voucher_order: ServiceOrder, team: tuple[Provider, Any, Any]
) -> None:
    provider, manager, worker = team
    # an order still offered to a provider, cancelled by staff: the offer is withdrawn
    offer = DispatchOffer.objects.create(
        order=voucher_order,
        provider=provider,
        contract=provider.contracts.first(),
        offered_by="optimiser",
        expires_at=voucher_order.created_at + datetime.timedelta(hours=1),
    )
    ServiceOrder.objects.filter(pk=voucher_order.pk).update(status="offered")
    svc.order_cancel(actor=personas.town_officer, order=voucher_order, reason="家属已自行安排")
    offer.refresh_from_db()
    assert offer.status == "withdrawn"
    # an accepted one, cancelled by the provider's manager (not by a care worker)
    second = accept(_second_order(voucher_order), provider)
    with pytest.raises(PermissionDenied):
        svc.order_cancel(actor=worker, order=second, reason="x")
    second = svc.order_cancel(actor=manager, order=second, reason="车辆故障")
    assert second.status == "cancelled"
    assert voucher_balance(second.plan, on=SERVICE_DAY).used == 0


def test_no_show_by_the_worker_or_staff(
    personas: Personas, voucher_order: ServiceOrder, team: tuple[Provider, Any, Any]
) -> None:
    provider, _manager, worker = team
    order = accept(voucher_order, provider, worker)
    # the worker cannot say the provider did not come
    with pytest.raises(PermissionDenied):
        svc.order_no_show(actor=worker, order=order, absent="provider", reason="x")
    order = svc.order_no_show(actor=worker, order=order, absent="beneficiary", reason="敲门无人应")
    assert order.status == "no_show" and "敲门无人应" in order.reason
    assert EntitlementDebit.objects.filter(order=order, kind="release").exists()
    # staff record that the provider did not come
    second = accept(_second_order(voucher_order), provider, worker)
    second = svc.order_no_show(
        actor=personas.village_assistant, order=second, absent="provider", reason="约定时间未上门"
    )
    event = TimelineEvent.objects.filter(kind="services.order_no_show").last()
    assert event is not None and event.detail["absent"] == "provider"
    assert voucher_balance(second.plan, on=SERVICE_DAY).used == 0


@pytest.mark.parametrize("served", [True, False])
def test_a_dispute_is_decided(
    personas: Personas, voucher_order: ServiceOrder, team: tuple[Provider, Any, Any], served: bool
) -> None:
    provider, _manager, worker = team
    order = _serve(accept(voucher_order, provider, worker), worker)
    # only staff record a dispute, and only of a served order
    with pytest.raises(PermissionDenied):
        svc.order_dispute(actor=worker, order=order, reason="x")
    order = svc.order_dispute(actor=personas.village_assistant, order=order, reason="没有理发")
    assert order.status == "disputed"
    with pytest.raises(ValidationError):
        svc.order_dispute_resolve(
            actor=personas.village_assistant, order=order, served=served, note=""
        )
    # when decided
    order = svc.order_dispute_resolve(
        actor=personas.village_assistant, order=order, served=served, note="回访核实"
    )
    # then
    need = Need.objects.get(pk=order.need_id)
    released = EntitlementDebit.objects.filter(order=order, kind="release").exists()
    assert order.status == "closed"
    if served:
        assert (need.status, need.confirmed_by, released) == ("fulfilled", "staff", False)
    else:
        assert (need.status, released) == ("dispatching", True)


def test_rating_rules(
    personas: Personas, voucher_order: ServiceOrder, team: tuple[Provider, Any, Any]
) -> None:
    provider, _manager, worker = team
    order = accept(voucher_order, provider, worker)
    # not before the service
    with pytest.raises(ValidationError):
        svc.order_rate(actor=personas.village_assistant, order=order, rating=5, how="staff")
    order = _serve(order, worker)
    for stars in (0, 6, "five"):
        with pytest.raises(ValidationError) as refused:
            svc.order_rate(actor=personas.village_assistant, order=order, rating=stars, how="staff")
        assert "rating" in refused.value.message_dict
    # the app rating is the beneficiary's (no signed-in actor); out-of-area staff may not
    with pytest.raises(PermissionDenied):
        svc.order_rate(actor=personas.village_assistant, order=order, rating=5, how="app")
    with pytest.raises(PermissionDenied):
        svc.order_rate(actor=personas.colleague, order=order, rating=5, how="staff")
    with pytest.raises(PermissionDenied):
        svc.order_rate(actor=worker, order=order, rating=5, how="staff")
    svc.order_rate(actor=personas.village_assistant, order=order, rating="5", how="staff")
    with pytest.raises(ValidationError):
        svc.order_rate(actor=personas.village_assistant, order=order, rating=3, how="staff")
    provider.refresh_from_db()
    assert (provider.rating_sum, provider.rating_count, provider.rating) == (5, 1, 5.0)


def test_the_need_is_fulfilled_only_when_no_order_of_it_is_open(
    personas: Personas, voucher_order: ServiceOrder, team: tuple[Provider, Any, Any]
) -> None:
    provider, _manager, worker = team
    second = _second_order(voucher_order)
    first = _serve(accept(voucher_order, provider, worker), worker)
    svc.order_rate(actor=personas.village_assistant, order=first, rating=5, how="staff")
    assert Need.objects.get(pk=first.need_id).status == "in_service"
    second = _serve(accept(second, provider, worker), worker)
    svc.order_rate(actor=personas.village_assistant, order=second, rating=4, how="phone")
    assert Need.objects.get(pk=first.need_id).status == "fulfilled"


def test_check_out_sends_the_rating_link_by_sms(
    voucher_order: ServiceOrder,
    team: tuple[Provider, Any, Any],
    django_capture_on_commit_callbacks: Any,
    settings: Any,
) -> None:
    settings.JIUZHU_PUBLIC_URL = "https://jiuzhu.xiajiang.example"
    provider, _manager, worker = team
    order = accept(voucher_order, provider, worker)
    with django_capture_on_commit_callbacks(execute=True):
        order = _serve(order, worker)
    # then one SMS (through the real notification interface and its log backend) to the
    # head's phone, with an absolute link the beneficiary can open, and no name
    sms = Notification.objects.filter(channel="sms", kind="order_rating")
    assert sms.count() == 1
    message = sms.get()
    assert message.phone_masked.endswith("0001") and message.status == "sent"
    assert message.link.startswith("https://jiuzhu.xiajiang.example/services/rate/")
    assert message.link in message.body
    assert "王" not in message.body
    assert svc.order_from_rating_token(message.link.split("/")[-2]) == order


def test_a_need_cancelled_while_its_order_is_placed_stays_cancelled(
    personas: Personas, family: Family
) -> None:
    # given the order service read the need as orderable, and then somebody cancelled it
    # (the status change re-reads the need under a lock, so the stale copy cannot win)
    from jiuzhu.services.services.needs import need_mark_dispatching

    need = project_need(personas, family)
    stale = Need.objects.get(pk=need.pk)
    Need.objects.filter(pk=need.pk).update(status="cancelled")
    # when the order part marks it as being dispatched
    with pytest.raises(ValidationError) as refused:
        need_mark_dispatching(need=stale)
    # then it is refused and the need stays cancelled
    assert "need" in refused.value.message_dict
    assert Need.objects.get(pk=need.pk).status == "cancelled"


def test_the_phone_is_for_the_assigned_worker_and_audited(
    voucher_order: ServiceOrder, team: tuple[Provider, Any, Any]
) -> None:
    from jiuzhu.accounts.models import AuditEvent

    provider, manager, worker = team
    order = accept(voucher_order, provider, worker)
    with pytest.raises(PermissionDenied):
        svc.order_phone_reveal(actor=manager, order=order)
    assert svc.order_phone_reveal(actor=worker, order=order) == "13807960001"
    assert AuditEvent.objects.filter(
        action="unmask", actor=worker, object_type="registry.person"
    ).exists()
    order = _serve(order, worker)
    with pytest.raises(PermissionDenied):
        svc.order_phone_reveal(actor=worker, order=order)


def test_a_project_order_and_a_datetime_window(personas: Personas, family: Family) -> None:
    need = project_need(personas, family, "bathing")
    start = datetime.datetime(2026, 3, 10, 9, tzinfo=datetime.UTC)
    order = svc.order_create(
        actor=personas.village_assistant,
        need=need,
        service_date=SERVICE_DAY,
        quantity=2,
        window_start=start,
        window_end=start + datetime.timedelta(hours=2),
    )
    assert (order.amount, order.charge, order.funding) == (Decimal(120), 0, "project")
    with pytest.raises(ValidationError) as backwards:
        svc.order_create(
            actor=None,
            need=need,
            service_date=SERVICE_DAY,
            window_start=start,
            window_end=start - datetime.timedelta(hours=1),
        )
    assert "window_end" in backwards.value.message_dict


def test_the_demo_places_one_voucher_order_per_agreed_plan(
    personas: Personas, family: Family, assessed: Assessment
) -> None:
    from django.utils import timezone

    from jiuzhu.services.demo_orders import seed_orders

    # given an agreed plan running today
    start = timezone.localdate().replace(month=1, day=1)
    agreed_plan(personas, family, assessed, [("hair_cut", 3, 1)], period_start=start)
    # when the demo runs twice
    first = seed_orders(county_code="360823")
    second = seed_orders(county_code="360823")
    # then one order was placed, debited, and the second run changed nothing
    assert first == {"orders": 1, "refused": 0} and second == {"orders": 0, "refused": 0}
    order = ServiceOrder.objects.get()
    assert order.status == "pending" and order.charge == Decimal(20)
    assert EntitlementDebit.objects.filter(order=order).count() == 1


def test_a_check_in_time_given_by_hand_cannot_precede_the_acceptance(
    voucher_order: ServiceOrder, team: tuple[Provider, Any, Any]
) -> None:
    provider, _manager, worker = team
    order = accept(voucher_order, provider, worker)
    assert order.accepted_at is not None
    with pytest.raises(ValidationError) as refused:
        svc.order_check_in(
            actor=worker,
            order=order,
            lat=HOME[0],
            lon=HOME[1],
            at=order.accepted_at - datetime.timedelta(hours=1),
        )
    assert "at" in refused.value.message_dict
    assert ServiceOrder.objects.get(pk=order.pk).status == "accepted"
