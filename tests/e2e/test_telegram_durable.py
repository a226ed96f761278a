"""Telegram does not resend an update it got a 200 for: every acknowledged update is stored
first and answered, through a SIGKILL of `passnum serve`, a database outage (the webhook
answers 503 so that Telegram retries), a failed call to Telegram's API and, in polling mode,
without confirming an update that could not be stored.

Sending to Telegram and recording that it was sent cannot be one step: a kill between the two
repeats that one message. The worker handles one update at a time, so a kill repeats at most
one message, and loses none."""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx

from bot.fakes.servers import FakeTelegram
from tests.e2e.telegram_process import (
    SECRET_HEADER,
    WEBHOOK,
    Outage,
    serve,
    stop,
    telegram_env,
    wait_for,
)
from tests.e2e.test_channels import _telegram_message

UPDATES = 30


def _answers(telegram: FakeTelegram) -> Counter[int]:
    return Counter(int(call["chat_id"]) for call in telegram.calls("sendMessage"))


def _post(url: str, update_id: int, chat_id: int, timeout: float = 60) -> int:
    update = _telegram_message(update_id, chat_id, text="/start")
    try:
        answer = httpx.post(url + WEBHOOK, json=update, headers=SECRET_HEADER, timeout=timeout)
        return answer.status_code
    except httpx.HTTPError:
        return 0  # no answer: Telegram would send it again


def test_sigkill_after_the_200s_loses_and_repeats_nothing(database_url: str) -> None:
    # On a loaded machine the worker may answer all 30 before the kill: then the round proved
    # nothing about a crash, and another round with new chats is played (at most three).
    killed_early = False
    for round_number in range(3):
        killed_early = _kill_after_the_200s(database_url, first_chat=8000 + 100 * round_number)
        if killed_early:
            break
    assert killed_early, "the kill never came before all updates were answered"


def _kill_after_the_200s(database_url: str, *, first_chat: int) -> bool:
    """30 updates acknowledged, SIGKILL, restart: each chat is answered exactly once. Returns
    whether the kill came before every update was answered."""
    with FakeTelegram() as telegram:
        env = telegram_env(database_url, telegram)
        process, url = serve(env)
        chats = [first_chat + n for n in range(UPDATES)]
        try:
            with ThreadPoolExecutor(max_workers=6) as pool:
                statuses = list(
                    pool.map(lambda n: _post(url, first_chat * 10 + n, chats[n]), range(UPDATES))
                )
        finally:
            process.kill()  # SIGKILL right after the last answer
            process.wait()
        acknowledged = [chat for chat, status in zip(chats, statuses, strict=True) if status == 200]
        assert len(acknowledged) == UPDATES
        killed_early = len(_answers(telegram)) < UPDATES
        process, url = serve(env)
        try:
            wait_for(lambda: set(acknowledged) <= set(_answers(telegram)), timeout=120)
            time.sleep(2)  # time for a second answer, if one were coming
        finally:
            stop(process)
    answers = _answers(telegram)
    assert all(answers[chat] >= 1 for chat in acknowledged), answers  # none lost
    repeated = {chat: answers[chat] for chat in acknowledged if answers[chat] > 1}
    assert len(repeated) <= 1 and all(n == 2 for n in repeated.values()), repeated
    return killed_early


def test_a_failed_send_is_tried_again_and_answered_once(database_url: str) -> None:
    # The turn is committed (the answer stored with it) before the call to Telegram fails:
    # the update is processed again and sends the stored answer, exactly as after a crash.
    bad_gateway = {"ok": False, "error_code": 502, "description": "Bad Gateway"}
    with FakeTelegram() as telegram:
        process, url = serve(telegram_env(database_url, telegram))
        try:
            telegram.fail_next(502, bad_gateway)
            telegram.fail_next(502, bad_gateway)
            assert _post(url, 4000, 8300) == 200
            wait_for(lambda: 8300 in _answers(telegram), timeout=60)
            assert _post(url, 4001, 8300) == 200  # the next message of the chat is answered too
            wait_for(lambda: _answers(telegram)[8300] >= 2, timeout=60)
            time.sleep(2.5)  # a further try would have come by now
        finally:
            stop(process)
    sent = [call["text"] for call in telegram.calls("sendMessage") if int(call["chat_id"]) == 8300]
    assert len(sent) == 2 and all(sent), sent  # each update answered once, nothing repeated


def test_database_down_the_webhook_answers_503_then_the_retry_is_answered(
    database_url: str,
) -> None:
    outage = Outage(database_url)
    with FakeTelegram() as telegram:
        process, url = serve(telegram_env(outage.server_url, telegram))
        try:
            outage.begin()
            # SQLite: the store waits out the busy timeout behind the scheduler's jobs
            down = [_post(url, 2000 + n, 8100 + n, 45) for n in range(1 if outage.sqlite else 5)]
            assert 200 not in down, down
            assert any(status >= 500 for status in down), down
            outage.end()
            again = [_post(url, 2000 + n, 8100 + n) for n in range(len(down))]  # Telegram retries
            assert again == [200] * len(down)
            wanted = {8100 + n for n in range(len(down))}
            wait_for(lambda: wanted <= set(_answers(telegram)))
            time.sleep(1)
        finally:
            stop(process)
            outage.close()
    answers = _answers(telegram)
    assert all(answers[chat] == 1 for chat in wanted)


def test_polling_confirms_no_offset_past_an_unstored_update(database_url: str) -> None:
    outage = Outage(database_url)
    with FakeTelegram() as telegram:
        process, _url = serve(telegram_env(outage.server_url, telegram, webhook=False))
        try:
            wait_for(lambda: telegram.calls("getUpdates"))
            outage.begin()
            with telegram.lock:
                telegram.pending_updates.append(_telegram_message(3000, 8200, text="/start"))
            polls = len(telegram.calls("getUpdates"))
            # at least one more poll while the database is down (SQLite: each store waits out
            # the 10 s busy timeout, behind the scheduler's own waits)
            wait_for(lambda: len(telegram.calls("getUpdates")) >= polls + 1, timeout=120)
            assert telegram.confirmed_offset <= 3000, "confirmed while the database was down"
            assert 8200 not in _answers(telegram)
            outage.end()
            wait_for(lambda: 8200 in _answers(telegram))
            wait_for(lambda: telegram.confirmed_offset == 3001)
            time.sleep(1)
        finally:
            stop(process)
            outage.close()
    assert _answers(telegram)[8200] == 1
