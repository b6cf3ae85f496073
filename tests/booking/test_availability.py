"""Slot computation: store zone in, UTC out, across a daylight-saving change."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sessions.service import availability as av

PARIS = "Europe/Paris"
# Saturday 28 March 2026 (CET, UTC+1), then clocks go forward on Sunday 29 (CEST, UTC+2).
SAT = datetime(2026, 3, 28, tzinfo=UTC)
NOW = datetime(2026, 3, 1, tzinfo=UTC)


def schedule(**kwargs: object) -> av.Schedule:
    values: dict = {
        "zone": PARIS,
        "hours": tuple(av.Span(d, time(10, 0), time(12, 0)) for d in range(7)),
        "rules": av.Rules(slot_minutes=30, buffer_minutes=10, min_notice_minutes=60),
    } | kwargs
    return av.Schedule(**values)


def hours_utc(slots: list[datetime]) -> list[str]:
    return [s.strftime("%d %H:%M") for s in slots]


def test_opening_hour_holds_across_the_spring_change() -> None:
    slots = av.free_slots(schedule(), start=SAT, end=SAT + timedelta(days=3), now=NOW)
    # 10:00 Paris is 09:00 UTC on Saturday, 08:00 UTC from Sunday; slot + buffer = 40 min.
    assert hours_utc(slots)[:3] == ["28 09:00", "28 09:40", "28 10:20"]
    assert hours_utc(slots)[3:6] == ["29 08:00", "29 08:40", "29 09:20"]
    assert all(s.tzinfo is not None and s.utcoffset() == timedelta(0) for s in slots)


def test_the_shopper_sees_the_same_instant_in_their_own_zone() -> None:
    slots = av.free_slots(schedule(), start=SAT, end=SAT + timedelta(days=2), now=NOW)
    # New York changed on 8 March: 10:00 Paris is 05:00 there on Saturday and 04:00 on Sunday.
    shown = [av.in_zone(s, "America/New_York").strftime("%a %H:%M") for s in slots]
    assert shown[0] == "Sat 05:00" and shown[3] == "Sun 04:00"
    tokyo = av.in_zone(slots[0], "Asia/Tokyo")
    assert tokyo.strftime("%d %H:%M") == "28 18:00"


def test_a_wall_time_skipped_by_the_clock_is_not_offered() -> None:
    night = schedule(hours=(av.Span(6, time(1, 0), time(4, 0)),))  # Sundays 01:00-04:00
    slots = av.free_slots(night, start=SAT, end=SAT + timedelta(days=2), now=NOW)
    local = [av.in_zone(s, PARIS).strftime("%H:%M") for s in slots]
    # 01:00, 01:40, [02:20 does not exist], 03:00, ...: never a time in the gap.
    assert "02:20" not in local and local[:2] == ["01:00", "01:40"]
    assert all(not time(2, 0) <= av.in_zone(s, PARIS).time() < time(3, 0) for s in slots)


def test_autumn_change_keeps_local_hours() -> None:
    # 25 October 2026: back to CET. Monday 26th opens at 10:00 Paris = 09:00 UTC.
    sat = datetime(2026, 10, 24, tzinfo=UTC)
    slots = av.free_slots(schedule(), start=sat, end=sat + timedelta(days=3), now=NOW)
    firsts = {s.strftime("%d"): s.strftime("%H:%M") for s in reversed(slots)}
    assert firsts == {"24": "08:00", "25": "09:00", "26": "09:00"}


def test_split_shift_exception_day_off_and_buffer() -> None:
    monday = date(2026, 3, 30)
    sched = schedule(
        hours=(
            av.Span(0, time(10, 0), time(11, 0)),
            av.Span(0, time(14, 0), time(15, 0)),
            av.Span(1, time(10, 0), time(11, 0)),
        ),
        exceptions=(
            av.DayException(date(2026, 3, 31)),  # Tuesday off
            av.DayException(date(2026, 4, 6), time(16, 0), time(17, 0)),  # replacement hours
        ),
    )
    start = datetime(2026, 3, 30, tzinfo=UTC)
    slots = av.free_slots(sched, start=start, end=start + timedelta(days=8), now=NOW)
    local = [av.in_zone(s, PARIS).strftime("%a %d %H:%M") for s in slots]
    assert local == [
        "Mon 30 10:00",
        "Mon 30 14:00",
        "Mon 06 16:00",
    ]
    assert monday.weekday() == 0


def test_booked_slots_their_buffer_notice_and_daily_cap() -> None:
    sched = schedule(
        rules=av.Rules(slot_minutes=30, buffer_minutes=10, min_notice_minutes=60, max_per_day=2)
    )
    day = datetime(2026, 3, 30, tzinfo=UTC)
    free = av.free_slots(sched, start=day, end=day + timedelta(days=1), now=NOW)
    assert hours_utc(free) == ["30 08:00", "30 08:40", "30 09:20"]
    one = av.free_slots(sched, start=day, end=day + timedelta(days=1), now=NOW, booked=[free[1]])
    assert hours_utc(one) == ["30 08:00", "30 09:20"]
    two = av.free_slots(
        sched, start=day, end=day + timedelta(days=1), now=NOW, booked=[free[0], free[1]]
    )
    assert two == []  # the day's maximum is reached
    late = av.free_slots(sched, start=day, end=day + timedelta(days=1), now=free[0])
    assert hours_utc(late) == ["30 09:20"]  # an hour's notice: 08:40 is too soon


def test_cells_cover_slot_and_buffer() -> None:
    rules = av.Rules(slot_minutes=30, buffer_minutes=10)
    start = datetime(2026, 3, 30, 8, 0, tzinfo=UTC)
    cells = av.cells(start, rules)
    assert len(cells) == 8 and cells[0] == start and cells[-1] == start + timedelta(minutes=35)
    # The next slot (08:40) shares no cell; one starting inside the buffer would.
    assert not set(cells) & set(av.cells(start + timedelta(minutes=40), rules))
    assert set(cells) & set(av.cells(start + timedelta(minutes=35), rules))


def test_next_opening() -> None:
    sched = schedule()
    evening = datetime(2026, 3, 28, 20, 0, tzinfo=UTC)
    assert av.next_opening(sched, evening) == datetime(2026, 3, 29, 8, 0, tzinfo=UTC)
    open_now = datetime(2026, 3, 28, 9, 30, tzinfo=UTC)
    assert av.next_opening(sched, open_now) == open_now
