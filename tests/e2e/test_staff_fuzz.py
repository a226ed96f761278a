"""The staff API fuzzed against its own OpenAPI schema, over real HTTP: never a 5xx.

(schemathesis' pytest plugin does not load under pytest 9 yet, so the operations are
driven here with hypothesis directly, from the same schemathesis strategies.)"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.e2e.conftest import STAFF_TOKEN, LiveApp

EXAMPLES_PER_OPERATION = 12


def test_staff_api_never_answers_5xx(live_app: LiveApp) -> None:
    schema = schemathesis.openapi.from_url(live_app.url + "/openapi.json")
    operations = [
        result.ok() for result in schema.include(path_regex="^/staff").get_all_operations()
    ]
    assert len(operations) > 20, "every staff route is in the schema"
    failures: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case) -> None:  # type: ignore[no-untyped-def]
            for token in (STAFF_TOKEN, "wrong-token"):
                answer = case.call(
                    base_url=live_app.url, headers={"Authorization": f"Bearer {token}"}
                )
                if answer.status_code >= 500:
                    failures.append(
                        f"{case.method} {case.formatted_path} -> "
                        f"{answer.status_code}: {answer.text[:200]}"
                    )

        check()
    assert failures == []
