"""Indonesian personal names reduced to canonical tokens that compare across sources.

A name is folded to ASCII lower case, split on anything that is not a letter, and each token is respelled: the
old spelling (oe, dj, tj, sj, ch) becomes the new one, doubled letters collapse, and the families of very common
names (Muhammad, Ahmad, Abdul, ...) become one token each. Honorifics and titles are dropped, Sasak and Balinese
noble or birth prefixes (Lalu, Baiq, I, Ni) are set aside, and a patronym after bin/binti is split off: sources
disagree on all of these, so they are not part of the compared name. Canonical tokens need not read well (j and y
become one letter, f and p too): they only need to be equal for the variants of one name. Their weights, from
frequency, are in `table.Vocabulary`.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

_NOT_LETTERS = re.compile(r"[^a-z]+")
_DOUBLED = re.compile(r"([a-z])\1+")
# Old (van Ophuijsen / Soewandi) spellings and common variants, applied in order to each token.
_RESPELLINGS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile("oe"), "u"),
    (re.compile("dj"), "j"),
    (re.compile("tj"), "c"),
    (re.compile("j"), "y"),  # old j is new y (Wijaja / Wijaya) and new j old dj: j and y become one letter
    (re.compile("ch"), "kh"),
    (re.compile("kh"), "h"),
    (re.compile("sy"), "s"),
    (re.compile("dh"), "d"),
    (re.compile("q"), "k"),
    (re.compile("f"), "p"),  # Arif / Arip, Yusuf / Yusup, Saifudin / Saipudin
    (re.compile("(?:ie|y)$"), "i"),  # Fauzi / Fauzy / Fauzie
    (re.compile("(?<=[aiueo])h$"), ""),  # Fatimah / Fatima, Aisyah / Aisya
)
# Canonical tokens of name families, keyed by the respelled token.
_FAMILIES = {
    "muhamad": "muhamad",
    "mohamad": "muhamad",
    "mohamed": "muhamad",
    "muhamed": "muhamad",
    "mohd": "muhamad",
    "moh": "muhamad",
    "muh": "muhamad",
    "mhd": "muhamad",
    "md": "muhamad",
    "mochamad": "muhamad",
    "mohammad": "muhamad",
    "mukhamad": "muhamad",
    "muchamad": "muhamad",
    "mamad": "muhamad",
    "ahmad": "ahmad",
    "ahmat": "ahmad",
    "amad": "ahmad",
    "akhmad": "ahmad",
    "achmad": "ahmad",
    "ahmed": "ahmad",
    "abd": "abdul",
    "abdul": "abdul",
    "abdu": "abdul",
    "nurul": "nur",
    "nor": "nur",
    "nour": "nur",
    "siti": "siti",
    "sity": "siti",
    "st": "siti",
    "yusuf": "yusuf",
    "yusup": "yusuf",
    "jusuf": "yusuf",
    "rahmat": "rahmat",
    "rahmad": "rahmat",
    "ramat": "rahmat",
    "fauzi": "fauzi",
    "fauzy": "fauzi",
    "rizki": "rizki",
    "rizky": "rizki",
    "risky": "rizki",
    "riski": "rizki",
    "rezki": "rizki",
}
_HONORIFICS = frozenset(
    {
        "h",
        "hj",
        "haji",
        "haja",
        "hajah",
        "ir",
        "dr",
        "drs",
        "dra",
        "prof",
        "spd",
        "pd",
        "sh",
        "se",
        "skom",
        "amd",
        "tn",
        "ny",
        "nn",
        "nona",
        "tuan",
        "bapak",
        "bpk",
        "ibu",
        "sdr",
        "sdri",
        "an",
        "alm",
        "almarhum",
        "almarhumah",
        "kyai",
        "kiai",
        "ustad",
        "ustaz",
        "ustadz",
        "raden",
        "rd",
        "bu",
        "pak",
        "mak",
        "inaq",
        "amaq",
        "papuq",
    }
)
_PATRONYM_MARKERS = frozenset({"bin", "binti", "bt", "bte", "binte", "bn"})
# Prefixes that some sources keep and others drop: Sasak nobility (Lalu for boys, Baiq for girls), Balinese I/Ni.
MALE_PREFIXES = frozenset({"lalu", "l", "i"})  # L. Sari is Lalu Sari
FEMALE_PREFIXES = frozenset({"baiq", "bq", "b", "ni"})
_PREFIXES = MALE_PREFIXES | FEMALE_PREFIXES
_MUHAMMAD, _MUHAMMAD_INITIAL = "muhammad", frozenset({"m"})


@dataclass(frozen=True, slots=True)
class ParsedName:
    """A name as canonical tokens, with the parts that sources disagree on kept apart."""

    tokens: tuple[str, ...]
    patronym: tuple[str, ...] = ()
    prefix: str = ""

    @property
    def key(self) -> str:
        """The canonical name as one string, tokens in their written order."""
        return " ".join(self.tokens)

    @property
    def sex_hint(self) -> str | None:
        """The sex a Sasak or Balinese prefix implies, if any."""
        if self.prefix in MALE_PREFIXES:
            return "male"
        return "female" if self.prefix in FEMALE_PREFIXES else None


def fold(text: str) -> list[str]:
    """ASCII lower-case letter runs of a text: accents, digits and punctuation removed."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return [token for token in _NOT_LETTERS.split(ascii_text) if token]


def _respell(token: str) -> str:
    respelled = _DOUBLED.sub(r"\1", token)
    for pattern, replacement in _RESPELLINGS:
        respelled = pattern.sub(replacement, respelled)
    return _DOUBLED.sub(r"\1", respelled) or token


_CANONICAL = {_respell(variant): _respell(canonical) for variant, canonical in _FAMILIES.items()}


@functools.lru_cache(maxsize=1 << 18)  # names repeat (Zipf): most tokens are respelled once
def canonical_token(token: str) -> str:
    """One folded token in the new spelling, doubled letters collapsed, name families merged."""
    respelled = _respell(token)
    return _CANONICAL.get(respelled, respelled)


def parse_name(text: str) -> ParsedName:
    """Split a written name into canonical tokens, patronym and prefix."""
    folded = [token for token in fold(text) if token not in _HONORIFICS]
    prefix = ""
    if len(folded) > 1 and folded[0] in _PREFIXES:
        prefix, folded = folded[0], folded[1:]
    patronym: list[str] = []
    for position, token in enumerate(folded):
        if token in _PATRONYM_MARKERS and position > 0:
            folded, patronym = folded[:position], folded[position + 1 :]
            break
    # A lone M. in front of a name is Muhammad in practice; other single letters are initials of titles (S.Pd).
    tokens = [
        canonical_token(_MUHAMMAD if token in _MUHAMMAD_INITIAL else token)
        for position, token in enumerate(folded)
        if len(token) > 1 or (token in _MUHAMMAD_INITIAL and position == 0 and len(folded) > 1)
    ]
    return ParsedName(tuple(tokens), tuple(canonical_token(part) for part in patronym if len(part) > 1), prefix)
