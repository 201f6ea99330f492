"""Deterministic matching for the walking skeleton: the same NIK, or the same normalised name, sex, birth
date and village, is the same person. Issue 4 replaces this with probabilistic matching."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import uuid
from dataclasses import dataclass

_NON_LETTERS = re.compile(r"[^a-z ]+")


def normalise_name(name: str) -> str:
    """Lower case, accents and punctuation removed, single spaces."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return " ".join(_NON_LETTERS.sub(" ", folded).split())


@dataclass(frozen=True)
class Observation:
    """What identity knows of one source record, reduced to what matching needs."""

    full_name: str
    sex: str
    birth_date: dt.date | None
    village_code: str

    def exact_key(self) -> str:
        """A key equal for two observations that are certainly one person."""
        birth = self.birth_date.isoformat() if self.birth_date else "?"
        return "|".join((normalise_name(self.full_name), self.sex, birth, self.village_code))


def new_person_id() -> str:
    """Opaque, stable person id."""
    return f"per_{uuid.uuid4().hex}"
