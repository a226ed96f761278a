"""Days and times typed in the console's slot and broadcast forms as the console shows them
(dd/mm/yyyy, 24-hour hh:mm), whatever the browser's language: read on the server, a mistake
answered with a 422 page in the console's language."""

from __future__ import annotations

from datetime import datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

from sqlalchemy import select

from storage.db import unit_of_work
from storage.models import Broadcast, Slot
from tests import factories
from tests.e2e.conftest import LiveApp
from tests.e2e.test_console import csrf_of, now_utc, sign_in

PARIS = ZoneInfo("Europe/Paris")


def _day_ahead(days: int) -> datetime:
    return (now_utc() + timedelta(days=days)).astimezone(PARIS)


def test_a_slot_is_created_and_moved_with_a_typed_day_and_24_hour_times(
    live_app: LiveApp,
) -> None:
    with unit_of_work(live_app.engine) as session:  # type: ignore[arg-type]
        place_id = factories.place(session).id or 0
        factories.topic(session, "email")
        session.commit()
    client = sign_in(live_app)
    page = client.get("/slots", params={"place": place_id})
    assert 'type="date"' not in page.text and 'type="time"' not in page.text
    assert "Format hh:mm sur 24 h" in page.text and 'value="14:00"' in page.text
    csrf = csrf_of(client, f"/slots?place={place_id}")
    day = _day_ahead(10)
    form = {"csrf": csrf, "place_id": place_id, "topic": "email", "capacity": "6"}
    typed = {"day": day.strftime("%d/%m/%Y"), "starts": "2 PM", "ends": "16h"}
    refused = client.post("/slots", data={**form, **typed})
    assert refused.status_code == 422
    assert "Début : « 2 PM » n'est pas une heure hh:mm" in unescape(refused.text)
    client.cookies.set("passnum_lang", "en")
    english = client.post("/slots", data={**form, **typed, "day": "11/31/2026"})
    assert english.status_code == 422
    assert "Day: '11/31/2026' is not a date dd/mm/yyyy" in unescape(english.text)
    client.cookies.delete("passnum_lang")
    created = client.post("/slots", data={**form, **typed, "starts": "14h30"})
    assert created.status_code == 303, created.text
    with unit_of_work(live_app.engine) as session:  # type: ignore[arg-type]
        slot = session.scalars(select(Slot).where(Slot.place_id == place_id)).one()
        slot_id = slot.id
        starts, ends = slot.starts_at.astimezone(PARIS), slot.ends_at.astimezone(PARIS)
    assert (starts.date(), starts.strftime("%H:%M"), ends.strftime("%H:%M")) == (
        day.date(),
        "14:30",
        "16:00",
    )

    move = client.get(f"/slots/{slot_id}/move")
    assert f'value="{day:%d/%m/%Y}"' in move.text and 'value="14:30"' in move.text
    later = _day_ahead(11)
    moved = client.post(
        f"/slots/{slot_id}/move",
        data={
            "csrf": csrf,
            "day": f"{later:%d/%m/%Y}",
            "starts": "0930",
            "ends": "11:00",
            "capacity": "6",
        },
    )
    assert moved.status_code == 303, moved.text
    with unit_of_work(live_app.engine) as session:  # type: ignore[arg-type]
        slot = session.get(Slot, slot_id)
        assert slot is not None
        starts = slot.starts_at.astimezone(PARIS)
    assert (starts.date(), starts.strftime("%H:%M")) == (later.date(), "09:30")


def test_a_broadcast_is_planned_with_a_typed_day_and_time(live_app: LiveApp) -> None:
    client = sign_in(live_app)
    page = client.get("/broadcasts")
    assert 'type="datetime-local"' not in page.text and 'name="send_day"' in page.text
    csrf = csrf_of(client, "/broadcasts")
    form = {"csrf": csrf, "segment": "all", "message": "Atelier numérique jeudi"}
    half = client.post("/broadcasts/preview", data={**form, "send_day": "03/12/2026"})
    assert half.status_code == 422
    assert "Heure d'envoi : «  » n'est pas une heure hh:mm" in unescape(half.text)
    day = _day_ahead(5)
    sent = client.post(
        "/broadcasts", data={**form, "send_day": f"{day:%d/%m/%Y}", "send_time": "10:15"}
    )
    assert sent.status_code == 303, sent.text
    with unit_of_work(live_app.engine) as session:  # type: ignore[arg-type]
        send_at = session.scalars(select(Broadcast.send_at)).one()
    assert send_at is not None
    assert send_at.astimezone(PARIS).replace(tzinfo=None) == datetime.combine(
        day.date(), datetime.strptime("10:15", "%H:%M").time()
    )
