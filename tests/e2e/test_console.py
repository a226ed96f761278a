"""The staff console over real HTTP: sign-in, the session cookie and CSRF rules, and each
page answering with the staff API's rules (the browser journeys are in test_console_browser)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select, update

from bot.outbox.quiet_hours import is_quiet
from storage.console_links import send_signin_link
from storage.db import unit_of_work
from storage.models import (
    AuditEntry,
    Beneficiary,
    Booking,
    Booklet,
    ConsoleSignInLink,
    OutboundMessage,
    Staff,
    Voucher,
)
from tests import factories
from tests.e2e.conftest import STAFF_TOKEN, LiveApp
from tests.staff.helpers import new_staff


def now_utc() -> datetime:
    return datetime.now(UTC)


CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def sign_in(live_app: LiveApp, token: str = STAFF_TOKEN) -> httpx.Client:
    """A browser-like client signed in to the console. The cookies are Secure (the public URL
    is HTTPS, served here over loopback HTTP), so they are carried by hand."""
    client = httpx.Client(base_url=live_app.url, timeout=20)
    form = client.get("/signin")
    nonce = CSRF.search(form.text).group(1)  # type: ignore[union-attr]
    client.cookies.set("passnum_signin", form.cookies["passnum_signin"])
    answer = client.post("/signin", data={"token": token, "csrf": nonce})
    assert answer.status_code == 303, answer.text
    client.cookies.clear()
    client.cookies.set("passnum_console", answer.cookies["passnum_console"])
    client.headers["x-set-cookie"] = answer.headers["set-cookie"]
    return client


def csrf_of(client: httpx.Client, path: str = "/today") -> str:
    return CSRF.search(client.get(path).text).group(1)  # type: ignore[union-attr]


def test_landing_page_is_the_sign_in_form_in_french(live_app: LiveApp) -> None:
    page = live_app.client.get("/")
    assert page.status_code == 200
    assert 'lang="fr"' in page.text and "Connexion" in page.text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


def test_sign_in_sets_a_strict_httponly_cookie_and_shows_today(live_app: LiveApp) -> None:
    client = sign_in(live_app)
    set_cookie = client.headers["x-set-cookie"].lower()
    assert "passnum_console=" in set_cookie
    assert "httponly" in set_cookie and "secure" in set_cookie and "samesite=strict" in set_cookie
    page = client.get("/")
    assert "Les séances du jour" in page.text and "bootstrap-admin" in page.text


def test_a_wrong_token_is_refused_and_audited(live_app: LiveApp) -> None:
    client = httpx.Client(base_url=live_app.url)
    form = client.get("/signin")
    nonce = CSRF.search(form.text).group(1)  # type: ignore[union-attr]
    client.cookies.set("passnum_signin", form.cookies["passnum_signin"])
    answer = client.post("/signin", data={"token": "nope", "csrf": nonce})
    assert answer.status_code == 401 and "pas reconnu" in answer.text
    assert client.get("/today").status_code == 303  # still signed out


def test_sign_in_without_the_form_cookie_is_refused(live_app: LiveApp) -> None:
    answer = live_app.client.post("/signin", data={"token": STAFF_TOKEN, "csrf": "forged"})
    assert answer.status_code == 403


def test_posts_without_csrf_or_cookie_are_refused(live_app: LiveApp) -> None:
    client = sign_in(live_app)
    no_csrf = client.post("/help/1/answer", data={"text": "bonjour"})
    assert no_csrf.status_code == 403
    wrong_csrf = client.post("/help/1/answer", data={"text": "bonjour", "csrf": "x" * 20})
    assert wrong_csrf.status_code == 403
    token = csrf_of(client)
    cookieless = httpx.post(
        live_app.url + "/help/1/answer", data={"text": "bonjour", "csrf": token}
    )
    assert cookieless.status_code == 403


def test_sign_out_ends_the_session_on_the_server(live_app: LiveApp) -> None:
    client = sign_in(live_app)
    secret = client.cookies["passnum_console"]
    assert client.post("/signout", data={"csrf": csrf_of(client)}).status_code == 303
    replay = httpx.get(live_app.url + "/today", cookies={"passnum_console": secret})
    assert replay.status_code == 303 and replay.headers["location"] == "/signin"


@pytest.mark.parametrize(
    "path",
    [
        "/today",
        "/people?q=PN-0001",
        "/help",
        "/broadcasts",
        "/slots",
        "/stats",
        "/places",
        "/try",
        "/audit",
        "/people/1",
        "/people/new",
    ],
)
def test_every_page_renders(live_app: LiveApp, path: str) -> None:
    client = sign_in(live_app)
    page = client.get(path)
    assert page.status_code == 200, page.text
    assert "<h1>" in page.text


def test_english_is_available(live_app: LiveApp) -> None:
    client = sign_in(live_app)
    client.cookies.set("passnum_lang", client.get("/lang/en?back=/today").cookies["passnum_lang"])
    assert "Today&#39;s sessions" in client.get("/today").text


def test_an_advisor_books_a_walk_in_only_with_the_booklet_code(live_app: LiveApp) -> None:
    """The console applies storage.access like the API: a person the advisor does not follow
    is not found by name or number, and is booked once the booklet's code is given."""
    with unit_of_work(live_app.engine) as session:  # type: ignore[arg-type]
        place = factories.place(session)
        slot = factories.slot(
            session, place_id=place.id or 0, starts_at=now_utc() + timedelta(days=2)
        )
        person = factories.beneficiary(session)
        number = session.scalar(select(Booklet.number).where(Booklet.beneficiary_id == person.id))
        session.commit()
    _, token = new_staff(live_app.engine, "Conseillère", places=[place.id or 0], at=now_utc())  # type: ignore[arg-type]
    client = sign_in(live_app, token)
    form = {"person": number, "back": "/today", "csrf": csrf_of(client)}
    unknown = client.post(f"/slots/{slot.id}/walk-in", data=form)
    assert unknown.status_code == 422 and "Personne ne correspond" in unknown.text
    wrong = client.post(f"/slots/{slot.id}/walk-in", data={**form, "code": "0000"})
    assert wrong.status_code == 404
    booked = client.post(f"/slots/{slot.id}/walk-in", data={**form, "code": "1234"})
    assert booked.status_code == 303, booked.text
    with unit_of_work(live_app.engine) as session:  # type: ignore[arg-type]
        seats = session.scalars(select(Booking.beneficiary_id).where(Booking.slot_id == slot.id))
        assert list(seats) == [person.id]


def _demo_person_id(live_app: LiveApp) -> int:
    with unit_of_work(live_app.engine) as session:  # type: ignore[arg-type]
        found = session.scalar(select(Beneficiary.id).where(Beneficiary.phone == "+33612345678"))
        return int(found or 0)


def test_an_admin_exports_a_persons_data_as_a_json_download(live_app: LiveApp) -> None:
    live_app.sms("MENU")
    person = _demo_person_id(live_app)
    client = sign_in(live_app)
    page = client.get(f"/people/{person}")
    assert f'action="/people/{person}/export"' in page.text
    download = client.post(f"/people/{person}/export", data={"csrf": csrf_of(client)})
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("application/json")
    assert "attachment" in download.headers["content-disposition"]
    data = json.loads(download.text)
    assert data["beneficiary"]["phone"] == "+33612345678"
    assert data["messages_received"][0]["body"] == "MENU"
    with unit_of_work(live_app.engine) as session:  # type: ignore[arg-type]
        audited = session.scalars(
            select(AuditEntry.action).where(AuditEntry.record == f"beneficiary:{person}")
        ).all()
    assert "privacy_export" in audited


def test_an_admin_erases_a_person_after_seeing_what_goes(live_app: LiveApp) -> None:
    live_app.sms("MENU")
    person = _demo_person_id(live_app)
    client = sign_in(live_app)
    confirm = client.get(f"/people/{person}/erase")
    assert confirm.status_code == 200
    assert "+33612345678" in confirm.text and "Aïcha" in confirm.text
    assert "les messages reçus d&#39;elle : 1" in confirm.text
    with unit_of_work(live_app.engine) as session:  # type: ignore[arg-type]
        assert session.get(Beneficiary, person).erased_at is None  # type: ignore[union-attr]
    no_csrf = client.post(f"/people/{person}/erase", data={})
    assert no_csrf.status_code == 403
    done = client.post(f"/people/{person}/erase", data={"csrf": csrf_of(client)})
    assert done.status_code == 303 and done.headers["location"] == "/people?erased=1"
    page = client.get(done.headers["location"])
    assert "ont été effacées" in page.text
    assert client.get(f"/people/{person}").status_code == 404  # nobody left to show
    with unit_of_work(live_app.engine) as session:  # type: ignore[arg-type]
        erased = session.get(Beneficiary, person)
        assert erased is not None and erased.phone is None and erased.erased_at is not None


def test_an_advisor_sees_no_privacy_buttons_and_is_refused(live_app: LiveApp) -> None:
    person = _demo_person_id(live_app)
    advisor, token = new_staff(live_app.engine, "Conseillère", places=[1], at=now_utc())  # type: ignore[arg-type]
    with unit_of_work(live_app.engine) as session:  # type: ignore[arg-type]
        session.execute(  # a person the advisor registered: theirs to see
            update(Beneficiary).where(Beneficiary.id == person).values(registered_by=advisor)
        )
        session.commit()
    client = sign_in(live_app, token)
    page = client.get(f"/people/{person}")
    assert page.status_code == 200, page.text
    assert "/export" not in page.text and "/erase" not in page.text
    csrf = csrf_of(client)
    assert client.post(f"/people/{person}/export", data={"csrf": csrf}).status_code == 403
    assert client.get(f"/people/{person}/erase").status_code == 403
    assert client.post(f"/people/{person}/erase", data={"csrf": csrf}).status_code == 403
    with unit_of_work(live_app.engine) as session:  # type: ignore[arg-type]
        still = session.get(Beneficiary, person)
        assert still is not None and still.phone == "+33612345678"
        refusals = session.scalars(
            select(AuditEntry.action).where(AuditEntry.action == "refused.forbidden")
        ).all()
    assert len(refusals) == 3


def test_try_the_assistant_on_a_call_says_what_the_voice_would(live_app: LiveApp) -> None:
    """The voice renderer as `passnum chat --channel voice` plays it: the call starts, "#" says
    the next choices without running anything, a key runs the menu."""
    client = sign_in(live_app)
    page = client.get("/try")
    assert 'value="voice"' in page.text
    csrf = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    rung = client.post("/try", data={"csrf": csrf, "sender": "demo", "call": "1"})
    assert rung.status_code == 200, rung.text
    assert "Bonjour Aïcha. Que voulez-vous faire ?" in rung.text
    assert "mots dits" in rung.text and "touche" in rung.text
    turn = re.search(r'name="turn" value="([^"]+)"', rung.text).group(1)  # type: ignore[union-attr]
    turn = turn.replace("&#34;", '"').replace("&quot;", '"').replace("&#39;", "'")
    turn = turn.replace("&amp;", "&")
    more = client.post(
        "/try",
        data={"csrf": csrf, "channel": "voice", "message": "#", "turn": turn, "page": "0"},
    )
    assert "Pour l&#39;aide, tapez 5." in more.text
    balance = client.post("/try", data={"csrf": csrf, "channel": "voice", "message": "1"})
    assert "Il vous reste" in balance.text


def test_try_the_assistant_on_telegram_counts_characters_not_sms(live_app: LiveApp) -> None:
    client = sign_in(live_app)
    csrf = csrf_of(client, "/try")
    answer = client.post("/try", data={"csrf": csrf, "channel": "telegram", "message": "MENU"})
    assert answer.status_code == 200, answer.text
    assert "caractères" in answer.text and "SMS</span>" not in answer.text
    refused = client.post("/try", data={"csrf": csrf, "channel": "fax", "message": "MENU"})
    assert refused.status_code == 422


def test_the_composer_asks_for_a_preview_fragment_while_typing(live_app: LiveApp) -> None:
    client = sign_in(live_app)
    page = client.get("/broadcasts")
    assert '<script src="/console-static/live-preview.js" defer></script>' in page.text
    assert 'data-live-preview="/broadcasts/preview-fragment"' in page.text
    assert "Voir l&#39;aperçu" in page.text  # the button without JavaScript stays
    script = client.get("/console-static/live-preview.js")
    assert script.status_code == 200 and "data-live-preview" in script.text
    csrf = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    form = {"csrf": csrf, "segment": "all", "message": "Atelier numérique, fête jeudi"}
    fragment = client.post("/broadcasts/preview-fragment", data=form)
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and 'data-testid="recipients"' in fragment.text
    assert "Atelier numérique, fete jeudi" in fragment.text  # as the SMS will arrive (GSM-7)
    assert 'name="csrf"' in fragment.text  # the confirm button works from the fragment
    empty = client.post("/broadcasts/preview-fragment", data={**form, "message": " "})
    assert empty.status_code == 200 and "recipients" not in empty.text
    bad_time = client.post("/broadcasts/preview-fragment", data={**form, "send_at": "demain"})
    assert bad_time.status_code == 200 and 'role="alert"' in bad_time.text
    forged = client.post("/broadcasts/preview-fragment", data={**form, "csrf": "x" * 20})
    assert forged.status_code == 403
    without_js = client.post("/broadcasts/preview", data=form)
    assert without_js.status_code == 200 and 'data-testid="recipients"' in without_js.text


def test_statistics_show_bookings_and_attendance_per_week(live_app: LiveApp) -> None:
    with unit_of_work(live_app.engine) as session:  # type: ignore[arg-type]
        place = factories.place(session)
        slot = factories.slot(session, place_id=place.id or 0, starts_at=now_utc())
        person = factories.beneficiary(session)
        voucher = session.scalar(
            select(Voucher.id).join(Booklet).where(Booklet.beneficiary_id == person.id)
        )
        session.add(
            Booking(
                slot_id=slot.id or 0,
                beneficiary_id=person.id or 0,
                voucher_id=voucher or 0,
                status="attended",
                created_at=now_utc(),
                updated_at=now_utc(),
            )
        )
        session.commit()
    client = sign_in(live_app)
    page = client.get("/stats")
    assert "Réservations et présences par semaine" in page.text
    monday = now_utc().date() - timedelta(days=now_utc().weekday())
    table = page.text.split('data-testid="weeks-table"')[1].split("</table>")[0]
    assert table.count("<tr>") == 1 + 16  # the heading, then sixteen weeks
    this_week = table.split(f"semaine du {monday:%d/%m/%Y}")[1].split("</tr>")[0]
    cells = re.findall(r'<td class="num">(\d+)</td>', this_week)
    assert int(cells[0]) >= 1 and int(cells[1]) >= 1  # bookings, attended
    assert f">{monday:%d/%m}</text>" in page.text  # the chart's label of this week


def _signin_client(live_app: LiveApp, path: str = "/signin") -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=live_app.url, timeout=20)
    form = client.get(path)
    client.cookies.set("passnum_signin", form.cookies["passnum_signin"])
    return client, CSRF.search(form.text).group(1)  # type: ignore[union-attr]


def _staff_with_chat(live_app: LiveApp, name: str, chat_id: int | None) -> int:
    member, _ = new_staff(live_app.engine, name, places=[1], at=now_utc())  # type: ignore[arg-type]
    with unit_of_work(live_app.engine) as session:  # type: ignore[arg-type]
        session.execute(update(Staff).where(Staff.id == member).values(telegram_chat_id=chat_id))
        session.commit()
    return member


def _notice(page: str) -> str:
    return page.split('data-testid="notice">')[1].split("</p>")[0]


def _queued_links(live_app: LiveApp) -> list[tuple[str, str]]:
    with unit_of_work(live_app.engine) as session:  # type: ignore[arg-type]
        rows = session.execute(
            select(OutboundMessage.address, OutboundMessage.body).where(
                OutboundMessage.dedupe_key.like("console-signin:%")  # type: ignore[union-attr]
            )
        ).all()
    return [(address, body) for address, body in rows]


def _ask_for_link(client: httpx.Client, nonce: str, name: str, app: LiveApp) -> httpx.Response:
    """Ask for a sign-in link. In quiet hours (evenings, Sundays, holidays) the page says the
    link cannot arrive in time and queues nothing; the test then queues it the way the page
    does at other times, so the rest of each test runs whatever the hour."""
    answer = client.post("/signin/telegram", data={"name": name, "csrf": nonce})
    assert answer.status_code == 200, answer.text
    if not is_quiet(now_utc(), app.settings):
        assert "Les messages ne partent pas en ce moment" not in answer.text
        return answer
    assert "Les messages ne partent pas en ce moment" in answer.text
    with unit_of_work(app.engine) as session:  # type: ignore[arg-type]
        send_signin_link(
            session,
            name=name,
            message=lambda link: f"Lien valable 10 minutes : {link}",
            link_base=app.settings.public_url,
            now=now_utc(),
            token_ttl=timedelta(days=app.settings.staff_token_ttl_days),
        )
        session.commit()
    return answer


def test_a_one_time_link_sent_by_telegram_signs_in_once(live_app: LiveApp) -> None:
    _staff_with_chat(live_app, "Nadia", 555001)
    client, nonce = _signin_client(live_app)
    asked = _ask_for_link(client, nonce, " nadia ", live_app)
    assert "10 minutes" in asked.text
    assert live_app.telegram.calls("sendMessage") == []  # queued, not sent by the request
    [(address, body)] = _queued_links(live_app)
    assert address == "tg:555001" and "10 minutes" in body
    secret = re.search(r"/signin/link/(\S+)", body).group(1)  # type: ignore[union-attr]
    with unit_of_work(live_app.engine) as session:  # type: ignore[arg-type]
        stored = session.scalars(select(ConsoleSignInLink.secret_hash)).all()
    assert len(stored) == 1 and secret not in stored[0]  # only its hash is kept

    browser, nonce = _signin_client(live_app, f"/signin/link/{secret}")
    assert 'action="/signin/link"' in browser.get(f"/signin/link/{secret}").text
    opened = browser.post("/signin/link", data={"secret": secret, "csrf": nonce})
    assert opened.status_code == 303, opened.text
    cookie = opened.cookies["passnum_console"]
    page = httpx.get(live_app.url + "/today", cookies={"passnum_console": cookie})
    assert page.status_code == 200 and "Nadia" in page.text
    assert "/signin/link/" not in _queued_links(live_app)[0][1]  # the used link is blanked

    again, nonce = _signin_client(live_app)
    replay = again.post("/signin/link", data={"secret": secret, "csrf": nonce})
    assert replay.status_code == 401 and "déjà servi" in replay.text
    forged = httpx.post(live_app.url + "/signin/link", data={"secret": secret, "csrf": "x" * 20})
    assert forged.status_code == 403


def test_a_sign_in_link_expires_after_ten_minutes(live_app: LiveApp) -> None:
    _staff_with_chat(live_app, "Karim", 555002)
    client, nonce = _signin_client(live_app)
    _ask_for_link(client, nonce, "Karim", live_app)
    secret = re.search(r"/signin/link/(\S+)", _queued_links(live_app)[0][1]).group(1)  # type: ignore[union-attr]
    with unit_of_work(live_app.engine) as session:  # type: ignore[arg-type]
        session.execute(
            update(ConsoleSignInLink).values(expires_at=now_utc() - timedelta(seconds=1))
        )
        session.commit()
    late = client.post("/signin/link", data={"secret": secret, "csrf": nonce})
    assert late.status_code == 401 and "passnum_console" not in late.cookies


def test_no_link_goes_to_a_name_without_chat_and_the_answer_is_the_same(
    live_app: LiveApp,
) -> None:
    _staff_with_chat(live_app, "Sans Telegram", None)
    client, nonce = _signin_client(live_app)
    answers = [
        _ask_for_link(client, nonce, name, live_app).text
        for name in ("Sans Telegram", "Personne de ce nom")
    ]
    assert answers[0].replace(nonce, "") != "" and _notice(answers[0]) == _notice(answers[1])
    assert _queued_links(live_app) == []
    with unit_of_work(live_app.engine) as session:  # type: ignore[arg-type]
        refused = session.scalars(
            select(AuditEntry.detail).where(AuditEntry.action == "console.link_refused")
        ).all()
    assert sorted(refused) == ["no linked Telegram chat", "no single staff member of this name"]
    no_nonce = httpx.post(live_app.url + "/signin/telegram", data={"name": "Sans Telegram"})
    assert no_nonce.status_code == 403


def test_asking_again_and_again_sends_at_most_three_live_links(live_app: LiveApp) -> None:
    _staff_with_chat(live_app, "Inès", 555003)
    client, nonce = _signin_client(live_app)
    for _ in range(5):
        _ask_for_link(client, nonce, "Inès", live_app)
    assert len(_queued_links(live_app)) == 3
