"""CSV imports of places, slots and beneficiaries (SPEC section 5).

Every import reads the whole file, checks each row on its own, reports a bad row with its line
number and loads the others. Re-importing the same file changes nothing: rows are matched on their
external id (booklet number for beneficiaries) and only differences are written. The functions
take a Session and never commit: the caller's unit of work does.

`path_or_lines` is a file path (str or PathLike) or an iterable of text lines (tests, the demo);
`on_progress(rows_done, rows_total)` is called every hundred rows and at the end.

Modules: `csv_reading` (the file, its rows, the report), `cells` (one value checked),
`running` (rows in batches, upserts), `topics`, `places`, `slots`, `booklet_rows` and
`beneficiaries` (one kind of file each).
"""

from storage.imports.beneficiaries import import_beneficiaries
from storage.imports.csv_reading import (
    CsvRow,
    ImportReport,
    Outcome,
    Progress,
    RowError,
    RowProblem,
    Source,
    read_csv,
)
from storage.imports.places import import_places
from storage.imports.running import BATCH_SIZE, fetch_in, run_rows
from storage.imports.slots import import_slots
from storage.imports.topics import ensure_topics

__all__ = [
    "BATCH_SIZE",
    "CsvRow",
    "ImportReport",
    "Outcome",
    "Progress",
    "RowError",
    "RowProblem",
    "Source",
    "ensure_topics",
    "fetch_in",
    "import_beneficiaries",
    "import_places",
    "import_slots",
    "read_csv",
    "run_rows",
]
