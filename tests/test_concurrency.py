"""Two saves of one unit's part at the same moment cannot together break a rule."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from conftest import CURRENT, stored
from webapp.domain.values import ValueProblem
from webapp.entry.service import UnitTable
from webapp.extensions import db
from webapp.models import Campaign, Unit


def part_of(unit_code: str, table: str) -> UnitTable:
    campaign = db.session.scalar(select(Campaign))
    unit = db.session.scalar(select(Unit).where(Unit.code == unit_code))
    return UnitTable(db.session, campaign, unit, campaign.outline.table(table))


def test_a_save_waits_for_the_other_and_is_checked_against_its_value(app):
    # ln-02's 2019 row: 15-35 year olds d35_tong, of whom d35_dtts are minorities (dtts <= tong)
    old_total = stored("ln-02", "II.1.3", "2019", "d35_tong").num
    new_minority = old_total  # valid against the old total ...
    new_total = old_total // 2  # ... and this total is valid against the old minority count, not the new one
    assert stored("ln-02", "II.1.3", "2019", "d35_dtts").num <= new_total
    outcome = {}
    second_waiting = threading.Event()

    def second():
        with CURRENT["app"].app_context():
            part = part_of("ln-02", "II.1.3")
            second_waiting.set()
            try:
                part.save("2019", "d35_dtts", str(new_minority), None, "web")
                outcome["second"] = "stored"
            except ValueProblem as exc:
                outcome["second"] = str(exc)

    with app.app_context():
        first = part_of("ln-02", "II.1.3")
        first.begin_write("web")  # the first save holds the lock ...
        first.store("2019", "d35_tong", first.check("2019", "d35_tong", str(new_total)), None, "web")
        thread = threading.Thread(target=second)
        thread.start()
        second_waiting.wait(5)
        thread.join(0.5)
        assert thread.is_alive(), "the second save must wait for the first"
        db.session.commit()  # ... until it commits
    thread.join(15)
    assert outcome["second"].startswith("Số người dân tộc thiểu số (15–35 tuổi) không được lớn hơn")
    total = stored("ln-02", "II.1.3", "2019", "d35_tong").num
    minority = stored("ln-02", "II.1.3", "2019", "d35_dtts").num
    assert total == new_total and minority <= total
