"""A verifier remembers the tokens it verified, never past their `exp`."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from simpul_platform.auth import Role, TokenKeys, TokenSigner
from simpul_platform.problems import Problem

SECRET = "a-test-secret-of-at-least-32-bytes!!"


def _token(lifetime: dt.timedelta) -> str:
    return TokenSigner(SECRET).sign("officer", Role.DISTRICT_OFFICER, ["35.09"], now=dt.datetime.now(dt.UTC),
                                    lifetime=lifetime)


def test_a_remembered_token_is_refused_once_it_expires() -> None:
    keys = TokenKeys(SECRET)
    token = _token(dt.timedelta(seconds=1))
    assert keys.verify(token).scope == ("35.09",)
    assert token in keys._verified  # remembered
    time.sleep(1.05)  # exp is a whole second at most one second away
    with pytest.raises(Problem) as refused:
        keys.verify(token)
    assert refused.value.status == 401


def test_a_token_refused_once_is_refused_again_and_another_key_does_not_share_it() -> None:
    keys = TokenKeys(SECRET)
    token = _token(dt.timedelta(minutes=5))
    assert keys.verify(token).subject == "officer"
    with pytest.raises(Problem):
        TokenKeys("another-secret-of-at-least-32-bytes!!").verify(token)
    with pytest.raises(Problem):
        keys.verify(token[:-2] + ("AA" if not token.endswith("AA") else "BB"))

