"""Hostile input for HTTP APIs: catalogues of bad values as Hypothesis strategies, what a refusal must look like
(RFC 9457 problem+json naming the field, echoing nothing), a before/after picture of a database, and a bridge that
lets a synchronous Hypothesis run send requests to an app served on the test's event loop."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from hypothesis import strategies as st
from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import create_async_engine

from simpul_platform.field_encryption import bind_keyring, development_keyring

PROBLEM = "application/problem+json"
OVERSIZED = 10_000
SQL_ISH = (
    "'; DROP TABLE children;--",
    "' OR '1'='1' --",
    "%",
    "_",
    "%_%",
    "\\",
    "\\'",
    "\\\\%",
    "1); DELETE FROM audit_log; --",
    "' UNION SELECT nik FROM children --",
    "$$; SELECT pg_sleep(10); $$",
    "*/ OR /*",
    '"; --',
    "`id`",
)
ODDITIES = (
    "\u202e",
    "Siti\u202enimA",
    "\u200d",
    "\u200b\u200b",
    "\ufeff",
    "Ame\u0301lie",
    "Z\u0351\u0353\u036b\u0344\u0489",
    "\U0001f9d2\U0001f3fd",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467",
    "\u0661\u0662\u0663",
    "\uff13\uff15",
    "\u00a0",
    "\u2028",
    "\u0130stanbul",
    "\U00010348",
    "\ufffd",
)
# PostgreSQL text cannot hold NUL; lone surrogates are not UTF-8. Both must be refused before they reach storage.
# (In a URL a lone surrogate's bytes are no UTF-8 either: the server reads them as U+FFFD, which is storable.)
NUL_BYTES = ("\x00", "Siti\x00Aminah")
LONE_SURROGATES = ("\ud800", "Siti\udfffAminah", "\udbff\udc00\udc00")
UNSTORABLE = NUL_BYTES + LONE_SURROGATES
WRONG_TYPES: tuple[Any, ...] = (True, 0, -1, 1.5, 10**40, [], {}, ["x"], {"$ne": None}, float("nan"), float("inf"))
IMPOSSIBLE_DATES = (
    "2023-02-30",
    "2023-02-29",
    "0000-01-01",
    "2023-13-01",
    "2023-00-10",
    "2023-04-31",
    "10000-01-01",
    "-2014-03-02",
    "2014-3-2",
    "02/03/2014",
    "2014-03-02'; DROP TABLE children;--",
    "2014-03-02\x00",
    "",
    "today",
)
IMPOSSIBLE_TIMES = (
    "2023-02-30T10:00:00Z",
    "0000-01-01T00:00:00Z",
    "2024-01-01T25:00:00Z",
    "2024-01-01T00:00:00+25:00",
    "2024-01-01T00:00:00",
    "2024-01-01",
    "now",
    "2024-01-01T00:00:00Z'; DROP TABLE children;--",
)


def oversized(limit: int, at_least: int = OVERSIZED) -> st.SearchStrategy[str]:
    """Strings of hostile pieces longer than `limit` and than `at_least` characters (10,000 unless it has to fit in
    a URL, which clients and servers cap at some 64 KiB); never blank once stripped."""
    pieces = st.sampled_from(SQL_ISH + ODDITIES + ("a",))
    return st.tuples(pieces, st.integers(0, 500)).map(
        lambda drawn: _repeat("x" + drawn[0], max(limit, at_least) + 1 + drawn[1])
    )


def _repeat(piece: str, length: int) -> str:
    return "".join(itertools.islice(itertools.cycle(piece), length - 1)) + "x"


def harmless_text(limit: int) -> st.SearchStrategy[str]:
    """Hostile-looking text that fits the field: SQL-ish strings and Unicode oddities a name may well contain."""
    return st.lists(st.sampled_from(SQL_ISH + ODDITIES + ("Siti",)), min_size=1, max_size=3).map(
        lambda parts: ("x" + " ".join(parts))[:limit]
    )


def bad_text(limit: int, *, nullable: bool = False, blank_allowed: bool = False) -> st.SearchStrategy[Any]:
    """Values a text field of at most `limit` characters must refuse."""
    blanks = () if blank_allowed else ("", "   ", "\t\n")
    return st.one_of(oversized(limit), st.sampled_from(UNSTORABLE + blanks + WRONG_TYPES + _null(nullable)))


def _null(nullable: bool) -> tuple[None, ...]:
    return () if nullable else (None,)


def bad_enum(valid: Iterable[str], *, nullable: bool = False) -> st.SearchStrategy[Any]:
    """Values an enumerated field must refuse: near misses of its members, SQL-ish strings, oddities, wrong types."""
    members = sorted(valid)
    near = [
        variant
        for member in members
        for variant in (
            member.upper(),
            member + "\u200d",
            f" {member}x",
            member + "'--",
            member.replace("_", "-") + "!",
        )
    ]
    return st.sampled_from(near + list(SQL_ISH + ODDITIES + UNSTORABLE + WRONG_TYPES + _null(nullable)) + [""])


def bad_integer(low: int, high: int) -> st.SearchStrategy[Any]:
    """Values an integer field from `low` to `high` must refuse."""
    return st.one_of(
        st.integers(high + 1, 10**40),
        st.integers(-(10**40), low - 1),
        st.sampled_from(("five", "1e3", "7; DROP TABLE children", 2.5, float("nan"), float("inf"), [], {}, "\uff15")),
    )


def bad_dates(*, nullable: bool = False) -> st.SearchStrategy[Any]:
    """Dates that are no calendar date, in a wrong format or of a wrong JSON type."""
    return st.sampled_from((*IMPOSSIBLE_DATES, True, [], {}, 1.5, *_null(nullable)))


def bad_times(*, nullable: bool = False) -> st.SearchStrategy[Any]:
    """Times that are no calendar time, carry no time zone or are of a wrong JSON type."""
    return st.sampled_from((*IMPOSSIBLE_TIMES, True, [], {}, *_null(nullable)))


def future_dates(today: dt.date) -> st.SearchStrategy[str]:
    """Days from the day after tomorrow to the last day of year 9999."""
    return st.dates(today + dt.timedelta(days=2), dt.date(9999, 12, 31)).map(dt.date.isoformat)


def future_times(now: dt.date) -> st.SearchStrategy[str]:
    """Times (with an offset) from two days after `now` to the last day of year 9999."""
    return st.tuples(future_dates(now), st.integers(-14, 14)).map(lambda t: f"{t[0]}T12:00:00{t[1]:+03d}:00")


def bad_identity_numbers(*, encodes_birth: bool, well_formed: bool) -> st.SearchStrategy[str]:
    """Strings that cannot be a NIK (`encodes_birth`) or a KK. `well_formed`: sixteen ASCII digits the registry
    still refuses (a region no kecamatan has or with 00 in it, a placeholder; a trailing newline it strips), for a
    NIK also an impossible birth date or an all-zero serial. Otherwise: 15 or 17 digits, letters, non-ASCII digits,
    an injection, a NUL or a bidirectional override."""
    serial = st.integers(1, 9999).map("{:04d}".format)
    birth = st.tuples(st.integers(1, 28), st.sampled_from((0, 40)), st.integers(1, 12), st.integers(0, 99)).map(
        lambda d: f"{d[0] + d[1]:02d}{d[2]:02d}{d[3]:02d}"
    )
    unknown_region = st.tuples(st.sampled_from(("99", "98", "10", "01")), st.integers(1, 99), st.integers(1, 99)).map(
        lambda r: f"{r[0]}{r[1]:02d}{r[2]:02d}"
    )
    valid_like = st.builds(lambda region, born, number: region + born + number, unknown_region, birth, serial)
    if well_formed:
        kinds = [
            valid_like,  # no kecamatan has these region digits
            valid_like.map(lambda n: "3500" + n[4:]),  # 00 in the region digits
            st.sampled_from(("1111111111111111", "1234567890123456", "9876543210987654", "0000000000000000")),
            valid_like.map(lambda n: n + "\n"),
        ]
        if encodes_birth:  # in a kecamatan that exists (Wuluhan)
            kinds += [
                valid_like.map(lambda n: "350911" + "72" + n[8:]),  # day 32 (72 - 40 for a girl)
                valid_like.map(lambda n: "350911" + "0213" + n[10:]),  # month 13
                valid_like.map(lambda n: "350911" + "300217" + n[12:]),  # 30 February
                valid_like.map(lambda n: "350911" + n[6:12] + "0000"),  # a placeholder serial
            ]
        return st.one_of(kinds)
    arabic, fullwidth = ("".join(chr(zero + d) for d in range(10)) for zero in (0x660, 0xFF10))
    return st.one_of(
        valid_like.map(lambda n: n[:-1]),
        valid_like.map(lambda n: n + "7"),
        st.tuples(valid_like, st.integers(0, 15), st.sampled_from("OolI ")).map(
            lambda d: d[0][: d[1]] + d[2] + d[0][d[1] + 1 :]
        ),
        valid_like.map(lambda n: n.translate(str.maketrans("0123456789", arabic))),
        valid_like.map(lambda n: n.translate(str.maketrans("0123456789", fullwidth))),
        valid_like.map(lambda n: n + "' OR '1'='1"),
        valid_like.map(lambda n: n[:8] + "\u202e" + n[8:]),
        valid_like.map(lambda n: n[:8] + "\x00" + n[8:]),
    )


def bad_village_codes(*, well_formed: bool) -> st.SearchStrategy[str]:
    """Village codes that break the PP.RR.SS.DDDD form, or (`well_formed`) also ones of that form no village has."""
    broken = st.sampled_from(
        (
            "35.09.11.3007",
            "35.09.11.2007.1",
            "35.09.11",
            "35.09",
            "3509112007",
            "35.O9.11.2007",
            "35-09-11-2007",
            "35.09.11.2007' OR '1'='1",
            "35.09.11.2007;--",
            "35.09.11.2007\n",
            " 35.09.11.2007",
            "35.09.11.2007\u200d",
            "35.09.11.\u202e7002",
            "%",
            "_",
            "35.09.11.2%",
            "35.09.11.200_",
            "\x00",
            "\\",
            "",
        )
    )
    if not well_formed:
        return broken
    unknown = st.tuples(st.just(99), st.integers(1, 99), st.integers(1, 99), st.integers(1000, 2999)).map(
        lambda c: f"{c[0]:02d}.{c[1]:02d}.{c[2]:02d}.{c[3]}"
    )
    return st.one_of(
        broken, unknown, st.just("35.09.11.2007".translate({ord(str(d)): chr(0x660 + d) for d in range(10)}))
    )


def header_bytes(value: str | bytes) -> bytes:
    """A header value as a client can put it on the wire: text as UTF-8 (a server reads it as Latin-1), bytes as
    they are, both without the control characters HTTP/1.1 cannot carry (a tab it can)."""
    raw = value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
    return re.sub(rb"[\x00-\x08\x0a-\x1f\x7f]", b"", raw)


def json_bytes(body: Any) -> bytes:
    """A body as JSON the way a sloppy client might send it: lone surrogates escaped, NaN and Infinity as literals."""
    return json.dumps(body).encode()


def strings_in(document: Any, *, keys: bool = True) -> Iterator[str]:
    """Every string of a decoded JSON document, its keys too unless `keys` is false."""
    if isinstance(document, str):
        yield document
    elif isinstance(document, dict):
        for key, value in document.items():
            if keys:
                yield key
            yield from strings_in(value, keys=keys)
    elif isinstance(document, list):
        for item in document:
            yield from strings_in(item, keys=keys)


def assert_refused(
    response: httpx.Response, *, fields: set[str | None], secrets: Iterable[str] = (), note: str = ""
) -> None:
    """A 4xx problem+json with type, title, status and detail; its errors name one of `fields` (None: a refusal
    with nothing to name may leave errors out, as an invalid token or unreadable JSON does); no secret in it."""
    where = (
        f"{response.request.method} {response.request.url.path} -> {response.status_code}: "
        f"{response.text[:500]!r} ({note})"
    )
    assert 400 <= response.status_code < 500, where
    assert response.headers["content-type"] == PROBLEM, where
    problem = response.json()
    assert {"type", "title", "status", "detail"} <= problem.keys(), where
    assert problem["status"] == response.status_code, where
    assert all(isinstance(problem[key], str) and problem[key] for key in ("type", "title", "detail")), where
    named = {name for name in fields if name is not None}
    if "errors" in problem:
        assert all(set(error) == {"field", "reason"} for error in problem["errors"]), where
        reported = {part.lower() for error in problem["errors"] for part in str(error["field"]).split(".")}
        assert not named or reported & {name.lower() for name in named} or None in fields, where
    else:
        assert None in fields or not named, where
    # The instance is the route's template, never the path, so a NIK put in a URL does not come back either.
    said = list(strings_in(problem))
    for secret in secrets:
        assert not any(secret in text for text in said), f"{where} echoes {secret[:40]!r}"


def secrets_of(value: Any) -> set[str]:
    """What a refusal must not repeat of a hostile value: long strings and every run of six or more digits (of the
    values: the keys of an object are field names, which a refusal names)."""
    found: set[str] = set()
    for text in strings_in(value, keys=False):
        if len(text) >= 12:
            found.add(text[:40])
        found.update(re.findall(r"\d{6,}", text))
    return found


async def snapshot(url: str, tables: Iterable[Table], written: Iterable[Table] = ()) -> dict[str, Any]:
    """Every row of `tables`, and for `written` (tables a background task deletes from, on PostgreSQL) how many rows
    were ever written: the last value their `seq` drew."""
    engine = create_async_engine(url)
    bind_keyring(engine.sync_engine, development_keyring())  # the services' keys under test: encrypted columns read
    try:
        async with engine.connect() as connection:
            state: dict[str, Any] = {}
            for table in tables:
                rows = await connection.execute(select(table).order_by(*table.primary_key.columns))
                state[table.name] = [tuple(row) for row in rows]
            for table in written:
                drawn = func.pg_sequence_last_value(func.pg_get_serial_sequence(table.name, "seq"))
                state[f"{table.name} rows written"] = (await connection.execute(select(drawn))).scalar_one() or 0
            return state
    finally:
        await engine.dispose()


@dataclass
class Bridge:
    """Send requests from a worker thread (where Hypothesis runs) through a client living on the event loop."""

    client: httpx.AsyncClient
    loop: asyncio.AbstractEventLoop
    sent: dict[str, int] = field(default_factory=dict)

    def request(
        self,
        method: str,
        url: str,
        *,
        label: str,
        params: Any = None,
        headers: Any = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        """The response, after at most a minute; counts the requests sent per label."""
        call = self.client.request(method, url, params=params, headers=headers, content=content)
        response = asyncio.run_coroutine_threadsafe(call, self.loop).result(timeout=60)
        self.sent[label] = self.sent.get(label, 0) + 1
        return response
