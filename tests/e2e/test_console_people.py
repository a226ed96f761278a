"""The console's people pages over real HTTP: registration with a day typed as the console
shows days (dd/mm/yyyy, whatever the browser's language), the file, a phone change and a
Telegram link, with the staff API's rules (the handlers of `bot.staff.people`)."""

from __future__ import annotations

import re
from html import unescape

from sqlalchemy import select

from storage.db import unit_of_work
from storage.models import AuditEntry, Beneficiary, Booklet, Voucher
from tests.e2e.conftest import LiveApp
from tests.e2e.test_console import csrf_of, now_utc, sign_in
from tests.staff.helpers import new_staff

FORM = {
    "first_name": "Rosa",
    "phone": "06 22 33 44 55",
    "booklet_number": "PN-9001",
    "vouchers": "6",
    "verification_code": "4321",
    "language": "fr",
}


def test_an_advisor_registers_someone_and_works_on_their_file(live_app: LiveApp) -> None:
    advisor, token = new_staff(live_app.engine, "Nadia", places=[1], at=now_utc())  # type: ignore[arg-type]
    client = sign_in(live_app, token)
    form_page = client.get("/people/new")
    assert 'type="date"' not in form_page.text
    assert "Format jj/mm/aaaa" in form_page.text and 'aria-describedby="expires_on-format"' in (
        form_page.text
    )
    csrf = csrf_of(client, "/people/new")
    for typed in ("06/31/2027", "2027-31-06", "30/06/27", "demain"):
        refused = client.post("/people", data={**FORM, "expires_on": typed, "csrf": csrf})
        assert refused.status_code == 422, typed
        assert f"« {typed} » n'est pas une date jj/mm/aaaa" in unescape(refused.text)
    done = client.post("/people", data={**FORM, "expires_on": " 30/06/2027 ", "csrf": csrf})
    assert done.status_code == 303, done.text
    person = int(done.headers["location"].rsplit("/", 1)[1])
    with unit_of_work(live_app.engine) as session:  # type: ignore[arg-type]
        row = session.get(Beneficiary, person)
        assert row is not None and row.registered_by == advisor
        days = set(
            session.scalars(
                select(Voucher.expires_on).join(Booklet).where(Booklet.beneficiary_id == person)
            )
        )
    assert [str(day) for day in days] == ["2027-06-30"]
    again = client.post("/people", data={**FORM, "expires_on": "2027-06-30", "csrf": csrf})
    assert again.status_code == 409 and "PN-9001" in again.text

    file = client.get(f"/people/{person}")
    assert file.status_code == 200 and "6 disponible(s)" in file.text and "30/06/2027" in file.text
    assert f'href="/people/{person}"' in client.get("/people", params={"q": "pn-9001"}).text
    changed = client.post(f"/people/{person}/phone", data={"phone": "0781223344", "csrf": csrf})
    assert changed.status_code == 303
    linked = client.post(f"/people/{person}/telegram-link", data={"csrf": csrf})
    assert linked.status_code == 200 and "<svg" in linked.text
    assert re.search(r"https://t\.me/\w+\?start=[0-9a-f]{32}", linked.text)

    _, other = new_staff(live_app.engine, "Paul", places=[2], at=now_utc())  # type: ignore[arg-type]
    stranger = sign_in(live_app, other)
    assert stranger.get(f"/people/{person}").status_code == 404
    assert f'href="/people/{person}"' not in stranger.get("/people", params={"q": "Rosa"}).text
    with unit_of_work(live_app.engine) as session:  # type: ignore[arg-type]
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.record == f"beneficiary:{person}")
        ).all()
        phone = session.scalar(select(Beneficiary.phone).where(Beneficiary.id == person))
    assert phone == "+33781223344"
    assert actions == [
        "beneficiary.register",
        "beneficiary.view",
        "beneficiary.change_phone",
        "beneficiary.telegram_link",
        "beneficiary.view",
    ]


def test_days_are_asked_the_same_way_in_english(live_app: LiveApp) -> None:
    client = sign_in(live_app)
    client.cookies.set("passnum_lang", "en")
    page = client.get("/people/new")
    assert "Format dd/mm/yyyy, for example 30/06/2027" in page.text
    refused = client.post(
        "/people", data={**FORM, "expires_on": "6/30/2027", "csrf": csrf_of(client, "/people/new")}
    )
    assert refused.status_code == 422
    assert "'6/30/2027' is not a date dd/mm/yyyy" in unescape(refused.text)
