"""The console on a 360 px phone and a desk screen, in a real headless Chromium: nothing
scrolls sideways, the sections are reached with the keyboard alone, and a day is typed as the
console shows days even in a browser set to American English (a native date field would ask
for mm/dd/yyyy there). Screenshots go to docs/console/."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import Console
from tests.browser.test_console_browser import shot

PAGES = ("/today", "/people?q=PN-000", "/people/new", "/help", "/slots", "/broadcasts", "/stats")


def _signed_in(browser: Any, console: Console, width: int, locale: str) -> Page:
    context = browser.new_context(viewport={"width": width, "height": 800}, locale=locale)
    page = context.new_page()
    page.goto(console.url + "/")
    page.locator("#token").fill(console.admin_token)
    page.locator("form button[type=submit]").first.click()
    expect(page.locator("nav.main")).to_be_visible()
    return page


def test_no_page_scrolls_sideways_and_the_sections_wrap(console: Console, browser: Any) -> None:
    for width in (360, 1280):
        page = _signed_in(browser, console, width, "fr-FR")
        for path in PAGES:
            page.goto(console.url + path)
            overflow = page.evaluate(
                "[document.documentElement.scrollWidth, window.innerWidth,"
                " document.querySelector('nav.main').scrollWidth]"
            )
            assert overflow[0] <= overflow[1] and overflow[2] <= overflow[1], (width, path)
        links = page.locator("nav.main a")
        boxes = [links.nth(i).bounding_box() for i in range(links.count())]
        rows = {round(box["y"]) for box in boxes if box}
        assert (len(rows) > 1) if width == 360 else (len(rows) == 1), (width, rows)
        if width == 360:
            assert all(box and box["height"] >= 44 for box in boxes)  # a thumb's target
            page.goto(console.url + "/people/new")
            shot(page, "people-new-360px")


def test_the_sections_are_reached_with_the_keyboard(console: Console, browser: Any) -> None:
    page = _signed_in(browser, console, 360, "fr-FR")
    page.goto(console.url + "/today")
    focused = []
    for _ in range(14):
        page.keyboard.press("Tab")
        focused.append(page.evaluate("document.activeElement.textContent.trim()"))
    assert focused[0] == "Aller au contenu"
    for section in ("Personnes", "Envois groupés", "Journal"):
        assert section in focused, focused
    page.keyboard.press("Shift+Tab")
    while page.evaluate("document.activeElement.textContent.trim()") != "Personnes":
        page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Personnes")


def _register(page: Page, console: Console, day: str) -> None:
    page.goto(console.url + "/people/new")
    page.get_by_label("Prénom").fill("Rosa")
    page.get_by_label("Téléphone").fill("06 22 33 44 55")
    page.get_by_label("N° de chéquier").fill("PN-9001")
    page.get_by_label("Code de vérification").fill("4321")
    field = page.get_by_label("Fin de validité")
    expect(field).to_have_attribute("type", "text")
    expect(field).to_have_accessible_description("Format jj/mm/aaaa, par exemple 30/06/2027")
    field.fill(day)
    assert field.evaluate("element => element.validity.patternMismatch") is False
    page.get_by_role("button", name="Inscrire une personne").click()


def test_a_day_is_typed_as_the_console_shows_it(console: Console, browser: Any) -> None:
    page = _signed_in(browser, console, 360, "en-US")  # the browser's language: not French
    _register(page, console, "06/31/2027")  # the American order: the form, but no month 31
    expect(page.get_by_text("n'est pas une date jj/mm/aaaa")).to_be_visible()
    _register(page, console, "30/06/2027")
    expect(page.get_by_role("heading", level=1)).to_have_text("Rosa")
    expect(page.get_by_text("valables jusqu'au 30/06/2027")).to_be_visible()
    shot(page, "person-registered-360px")
