"""Benchmark of the interpreter: every message is read once (spelling, phrases, day words)
and its place words resolved against the shipped reference data. Target: p99 under 1 ms."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Any

__all__ = ["MESSAGES", "bench_interpreter"]

MESSAGES = (
    "je veut reserver un atelier a fontaine",
    "un cour dordinateur a echirolle demain aprem",
    "jveu un cour pres de chez moi",
    "combien il me reste",
    "annule mon rdv de vendredi",
    "c ou deja",
    "arrete de menvoyer des messages",
    "ok merci",
    "la semaine prochaine le matin a saint martin d heres",
    "i want a computer class near me tomorrow",
    "xqzw blabla hop",
    "2",
)


def bench_interpreter(workdir: Path, quick: bool) -> dict[str, Any]:
    """p50/p99 of interpret() plus place resolution, per message."""
    from bot.bench import percentile
    from config.lexicon import load_lexicons
    from flows.interpret import interpret
    from flows.lexicon import build_lexicon
    from storage.geo import default_resolver

    lexicon = build_lexicon(load_lexicons())
    resolver = default_resolver()
    today = date(2025, 2, 3)
    samples: list[float] = []
    for _ in range(100 if quick else 1000):
        for text in MESSAGES:
            started = time.perf_counter()
            heard = interpret(text, lexicon, today)
            for run in heard.place_words[:2]:
                resolver.resolve(" ".join(run))
            samples.append((time.perf_counter() - started) * 1000)
    return {
        "messages": len(samples),
        "p50_ms": round(percentile(samples, 50), 3),
        "p99_ms": round(percentile(samples, 99), 3),
        "target_p99_ms": 1.0,
    }
