"""Where the public CRM data sets live: ``$LEADPOOL_DATASETS``, else ``shared/datasets``
beside the checkout (or beside any folder above it), else the workplace's copy.

The data sets are read in place, never copied into the repository (their licences are not
stated). Tests that need them skip, saying so, when none of these places has them.
"""

import os
from pathlib import Path

_WORKPLACE_COPY = Path("/work/shared/datasets")


def _find() -> Path | None:
    if os.environ.get("LEADPOOL_DATASETS"):
        return Path(os.environ["LEADPOOL_DATASETS"])
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "datasets"
        if candidate.is_dir():
            return candidate
    return _WORKPLACE_COPY if _WORKPLACE_COPY.is_dir() else None


DATASETS = _find()
MISSING = "the shared data sets are not on this machine (set LEADPOOL_DATASETS)"


def dataset(*parts: str) -> Path:
    """A file of the data sets (a path that does not exist when they are missing)."""
    return (DATASETS or Path("/nonexistent")).joinpath(*parts)
