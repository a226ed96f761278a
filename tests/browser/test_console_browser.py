"""The console's main journeys in a real headless Chromium: sign in, broadcast with a second
admin's approval until "delivered", attendance, the help inbox, cancelling a slot, and the
refusal of posts without CSRF token or cookie. Each page is saved as a screenshot into
docs/console/ (referenced by docs/console.md)."""

from __future__ import annotations

import re
import time
from datetime import datetime
from typing import Any

from playwright.sync_api import Page, expect
from sqlalchemy import select

from bot.outbox.quiet_hours import next_allowed
from config import load_settings
from flows.gsm7 import gsm7_length, sms_segments, to_gsm7
from storage.db import create_db_engine, unit_of_work
from storage.identity import leave_help_request
from storage.models import Beneficiary, Booklet, Broadcast, HelpRequest, OutboundMessage, Slot
from tests.browser.conftest import SCREENSHOTS, Console, now_utc

MESSAGE = "Nouvel atelier « smartphone » à la médiathèque : réservez vite ! Répondez MENU."
SETTINGS = load_settings(database_url="sqlite://")


def sign_in(browser: Any, console: Console, token: str, width: int = 1280) -> Page:
    context = browser.new_context(viewport={"width": width, "height": 860}, locale="fr-FR")
    page = context.new_page()
    page.goto(console.url + "/")
    page.get_by_label("Jeton d'accès").fill(token)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("séances")
    return page


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sending_time() -> datetime:
    """The first moment the product may send from now (not at night, on Sunday, a holiday)."""
    return next_allowed(now_utc(), SETTINGS)


def _wait_for_twilio(done: Any, timeout: float = 30) -> None:
    """Until the fake Twilio has received what `done` checks (messages leave in the
    background: the server's scheduler may be sending a batch the tick did not claim)."""
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "the messages did not reach Twilio in time"
        time.sleep(0.1)


_ENGINES: dict[str, Any] = {}


def _db(console: Console) -> Any:
    """A unit of work on the server's database, for setting up and checking (never nested)."""
    if console.database_url not in _ENGINES:
        _ENGINES[console.database_url] = create_db_engine(console.database_url)
    return unit_of_work(_ENGINES[console.database_url])


def _phone(console: Console, booklet: str) -> str:
    with _db(console) as session:
        return str(
            session.scalar(
                select(Beneficiary.phone)
                .join(Booklet, Booklet.beneficiary_id == Beneficiary.id)
                .where(Booklet.number == booklet)
            )
        )


def _first_slots(console: Console, count: int) -> list[tuple[int, int, str]]:
    """(slot id, place id, local day) of the first sessions, on distinct places."""
    with _db(console) as session:
        rows = session.execute(
            select(Slot.id, Slot.place_id, Slot.starts_at).order_by(Slot.starts_at, Slot.id)
        ).all()
    chosen: list[tuple[int, int, str]] = []
    for slot_id, place_id, starts_at in rows:
        if all(place_id != c[1] for c in chosen):
            chosen.append((slot_id, place_id, starts_at.astimezone(SETTINGS.tz).date().isoformat()))
        if len(chosen) == count:
            return chosen
    raise AssertionError("not enough demo slots")


def walk_in(page: Page, console: Console, slot: tuple[int, int, str], booklet: str) -> None:
    page.goto(f"{console.url}/today?day={slot[2]}")
    card = page.locator(f"section[aria-labelledby='slot-{slot[0]}']")
    card.get_by_label("Inscrire une personne venue sans rendez-vous").fill(booklet)
    card.get_by_role("button", name="Inscrire").click()


def test_broadcast_preview_confirm_second_admin_approval_and_delivery(
    console: Console, browser: Any
) -> None:
    page = sign_in(browser, console, console.admin_token)
    page.get_by_role("link", name="Envois groupés").click()
    page.get_by_label("Destinataires", exact=True).select_option("all")
    page.get_by_label("Message", exact=True).fill(MESSAGE)
    page.get_by_label("Langue des destinataires").select_option("fr")
    page.get_by_role("button", name="Voir l'aperçu").click()
    recipients = int(page.get_by_test_id("recipients").inner_text())
    segments = sms_segments(to_gsm7(MESSAGE))
    assert recipients > 1
    expect(page.get_by_test_id("cost")).to_have_text(
        f"{recipients * segments * 0.07:.2f} €".replace(".", ",")
    )
    expect(page.locator(".sms").first).to_have_text(to_gsm7(MESSAGE))
    shot(page, "broadcast-preview")
    page.get_by_role("button", name=re.compile("Confirmer l'envoi")).click()
    expect(page.get_by_test_id("status")).to_have_text("en attente d'approbation")
    assert page.get_by_role("button", name="Approuver l'envoi").count() == 1
    page.get_by_role("button", name="Approuver l'envoi").click()  # the author may not approve
    expect(page.get_by_role("alert")).to_contain_text("someone else than its author")

    second = sign_in(browser, console, console.new_admin("Nadia"))
    second.get_by_role("link", name="Envois groupés").click()
    second.get_by_role("link", name=re.compile(f"{recipients} destinataires")).click()
    second.get_by_role("button", name="Approuver l'envoi").click()
    expect(second.get_by_test_id("status")).to_contain_text("en cours d'envoi")

    # The server's own scheduler sends too when the hour allows it; a scheduler pass at the
    # first allowed moment sends the rest: between them, each person gets it exactly once.
    console.tick(sending_time())

    def sent() -> list[dict[str, str]]:
        return [m for m in console.twilio.sent if m["Body"] == to_gsm7(MESSAGE)]

    _wait_for_twilio(lambda: len(sent()) >= recipients)
    time.sleep(1)  # a second copy, if one were coming
    assert len(sent()) == recipients == len({m["To"] for m in sent()})
    # the report page refreshes itself while messages are going out
    expect(second.get_by_test_id("count-sent")).to_have_text(str(recipients), timeout=20000)
    console.deliver_all()
    second.reload()
    expect(second.get_by_test_id("count-delivered")).to_have_text(str(recipients))
    expect(second.get_by_test_id("count-failed")).to_have_text("0")
    shot(second, "broadcast-report")


def test_attendance_help_answer_and_slot_cancellation(console: Console, browser: Any) -> None:
    first, second = _first_slots(console, 2)
    phone = _phone(console, "PN-0003")
    with _db(console) as session:
        person = session.scalar(select(Booklet.beneficiary_id).where(Booklet.number == "PN-0003"))
        help_id = leave_help_request(
            session,
            beneficiary_id=person,
            channel="sms",
            address=phone,
            text="Bonjour, je ne trouve plus mon chéquier",
            now=now_utc(),
        ).id
        session.commit()
    page = sign_in(browser, console, console.admin_token)

    walk_in(page, console, first, "PN-0001")
    card = page.locator(f"section[aria-labelledby='slot-{first[0]}']")
    card.get_by_role("button", name="Aïcha est présent·e").click()
    expect(card.locator(".status-attended")).to_have_text("présent·e")
    shot(page, "today")

    page.get_by_role("link", name="Demandes d'aide").click()
    expect(page.get_by_role("heading", name="En attente de réponse (1)")).to_be_visible()
    shot(page, "help-inbox")
    page.get_by_label("Réponse").fill("Bonjour, passez à l'accueil mardi : on vous en refait un.")
    page.get_by_role("button", name="Envoyer la réponse").click()
    expect(page.get_by_role("heading", name="En attente de réponse (0)")).to_be_visible()
    with _db(console) as session:
        answered = session.get(HelpRequest, help_id)
        queued = session.scalar(
            select(OutboundMessage).where(OutboundMessage.dedupe_key == f"help-answer:{help_id}")
        )
        assert answered.answered_at is not None and queued is not None

    walk_in(page, console, second, "PN-0004")
    page.goto(f"{console.url}/slots?place={second[1]}&week={second[2]}")
    shot(page, "slots-week")
    page.locator(f"a[href='/slots/{second[0]}/cancel']").click()
    expect(page.get_by_test_id("impact")).to_have_text(
        "1 personne(s) prévenue(s) par SMS, 0 par Telegram."
    )
    shot(page, "slot-cancel")
    page.get_by_role("button", name="Confirmer l'annulation").click()
    expect(page.get_by_test_id("done")).to_contain_text(
        "Créneau annulé : 1 personne(s) prévenue(s) par SMS, 0 par Telegram"
    )

    console.tick(sending_time())  # (or the server's own scheduler, when the hour allows)
    walk_in_phone = _phone(console, "PN-0004")
    _wait_for_twilio(lambda: {phone, walk_in_phone} <= {m["To"] for m in console.twilio.sent})
    to = {m["To"]: m["Body"] for m in console.twilio.sent}
    assert "refait un" in to[phone]
    assert "annul" in to[walk_in_phone].lower()


def test_posts_without_csrf_or_cookie_are_refused(console: Console, browser: Any) -> None:
    page = sign_in(browser, console, console.admin_token)
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    no_token = page.request.post(console.url + "/help/1/answer", form={"text": "x"})
    assert no_token.status == 403
    forged = page.request.post(console.url + "/help/1/answer", form={"text": "x", "csrf": "f" * 32})
    assert forged.status == 403
    stranger = browser.new_context()
    cookieless = stranger.request.post(
        console.url + "/help/1/answer", form={"text": "x", "csrf": csrf or ""}
    )
    assert cookieless.status == 403
    assert stranger.request.get(console.url + "/help", max_redirects=0).status == 303


def test_every_page_with_screenshots(console: Console, browser: Any, tmp_path: Any) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="fr-FR")
    signin = context.new_page()
    signin.goto(console.url + "/")
    shot(signin, "signin")
    page = sign_in(browser, console, console.admin_token)
    page.goto(console.url + "/people?q=PN-000")
    expect(page.get_by_role("link", name="Aïcha")).to_be_visible()
    shot(page, "people")
    page.get_by_role("link", name="Aïcha").click()
    page.get_by_role("button", name="Créer le lien et son QR code").click()
    expect(page.locator("figure.qr svg")).to_be_visible()
    shot(page, "person")
    slot = _first_slots(console, 1)[0]
    for booklet, name, button in (
        ("PN-0001", "Aïcha", "présent·e"),
        ("PN-0003", "Jean-Pierre", "absent·e"),
    ):
        walk_in(page, console, slot, booklet)
        page.get_by_role("button", name=f"{name} est {button}").click()
    shot(page, "today-marked")
    page.get_by_role("link", name="Statistiques").click()
    expect(page.locator(".chart svg").first).to_be_visible()
    shot(page, "stats")
    page.get_by_role("link", name="Lieux").click()
    upload = tmp_path / "lieux.csv"
    upload.write_text(
        "id;nom;adresse;code_postal;commune;horaires\n"
        "mednum-1;Espace numérique Abbaye;1 rue de l'Abbaye;38100;Grenoble;Mo-Fr 09:00-12:00\n"
        "mednum-2;;2 rue sans nom;38100;Grenoble;\n",
        encoding="utf-8",
    )
    page.get_by_label("Fichier CSV").set_input_files(str(upload))
    page.get_by_role("button", name="Importer").click()
    expect(page.get_by_test_id("import-report")).to_contain_text("1 créé(s)")
    expect(page.get_by_test_id("import-report")).to_contain_text("1 ligne(s) en erreur")
    shot(page, "places")
    page.get_by_role("link", name="Essayer l'assistant").click()
    page.get_by_label("Message", exact=True).fill("combien il me reste")
    page.get_by_role("button", name="Envoyer").click()
    expect(page.get_by_test_id("count").first).to_contain_text("SMS")
    shot(page, "try")
    page.get_by_role("link", name="Journal").click()
    expect(page.locator("table")).to_contain_text("places.import")
    shot(page, "audit")
    page.get_by_role("link", name="Envois groupés").click()
    shot(page, "broadcasts")
    phone = sign_in(browser, console, console.admin_token, width=360)
    phone.goto(console.url + "/slots")
    shot(phone, "slots-360px")
    phone.get_by_role("link", name="English").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Slots")


def _reply_texts(page: Page) -> list[tuple[str, str]]:
    """(reply as written, its count label) of each bubble the assistant sent."""
    return [
        (
            bubble.evaluate("node => node.firstChild.textContent"),
            bubble.locator(".count").inner_text(),
        )
        for bubble in page.locator(".bubble.out").all()
    ]


def test_the_composer_preview_follows_the_typing(console: Console, browser: Any) -> None:
    """With JavaScript, the preview card updates while the message is typed, without the
    preview button: characters, segments and cost follow the text; nothing is stored."""
    page = sign_in(browser, console, console.admin_token)
    page.goto(console.url + "/broadcasts")
    expect(page.get_by_test_id("recipients")).to_have_count(0)
    page.get_by_label("Destinataires", exact=True).select_option("all")
    page.get_by_label("Message", exact=True).press_sequentially("Bonjour à tous")
    expect(page.get_by_test_id("characters")).to_have_text("14")
    expect(page.get_by_test_id("segments")).to_have_text("1")
    recipients = int(page.get_by_test_id("recipients").inner_text())
    assert recipients > 1
    expect(page.get_by_test_id("cost")).to_have_text(f"{recipients * 0.07:.2f} €".replace(".", ","))
    longer = " ".join([MESSAGE] * 3)  # two SMS once transliterated
    sms = to_gsm7(longer)
    assert sms_segments(sms) == 2
    page.get_by_label("Message", exact=True).fill(longer)
    expect(page.get_by_test_id("segments")).to_have_text("2")
    expect(page.get_by_test_id("characters")).to_have_text(str(len(sms)))
    expect(page.get_by_test_id("cost")).to_have_text(
        f"{recipients * 2 * 0.07:.2f} €".replace(".", ",")
    )
    expect(page.locator("#preview-slot .sms")).to_have_text(sms)
    page.get_by_label("Message", exact=True).fill("")
    expect(page.get_by_test_id("recipients")).to_have_count(0)  # an empty message: no card
    with _db(console) as session:
        assert session.scalars(select(Broadcast)).all() == []  # previews store nothing


def test_the_try_page_shows_each_reply_with_its_characters_and_segments(
    console: Console, browser: Any
) -> None:
    page = sign_in(browser, console, console.admin_token)
    page.get_by_role("link", name="Essayer l'assistant").click()
    page.get_by_label("Écrire en tant que").select_option("unknown")
    page.get_by_label("Message", exact=True).fill("Bonjour")
    page.get_by_role("button", name="Envoyer").click()
    expect(page.locator(".bubble.in")).to_contain_text("Bonjour")
    expect(page.locator(".bubble.out").first).to_be_visible()
    replies = _reply_texts(page)
    assert replies and all(text.strip() for text, _ in replies)
    for text, count in replies:
        assert count == f"{gsm7_length(text)} caractères · {sms_segments(text)} SMS", text
    page.get_by_label("Canal").select_option("telegram")
    page.get_by_label("Message", exact=True).fill("MENU")
    page.get_by_role("button", name="Envoyer").click()
    expect(page.locator(".phone")).to_have_attribute("data-channel", "telegram")
    expect(page.locator(".bubble.in")).to_contain_text("MENU")
    telegram = _reply_texts(page)
    assert telegram and all(count == f"{len(text)} caractères" for text, count in telegram)
