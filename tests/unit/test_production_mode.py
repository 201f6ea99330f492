"""In production mode a service refuses to start with the public development keys or secrets (it only warned)."""

from __future__ import annotations

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from simpul.cli import app
from simpul.services import SERVICES
from simpul_platform.field_encryption import Keyring
from simpul_platform.settings import DevelopmentDefaultsError


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_production_refuses_development_keys(service: str) -> None:
    spec = SERVICES[service]
    with pytest.raises(DevelopmentDefaultsError) as refused:
        spec.build(spec.settings_with(production=True))
    assert "SIMPUL_JWT_SECRET" in str(refused.value)
    assert f"{service.upper()}_FIELD_KEYRING" in str(refused.value)
    spec.build(spec.settings_with())  # a local run still starts (with its warnings)


def test_production_starts_with_real_keys() -> None:
    entry = CliRunner().invoke(app, ["keys", "generate", "--id", "k1"]).output.strip()
    assert Keyring.from_setting(entry).key_ids == ("k1",)
    spec = SERVICES["identity"]
    spec.build(spec.settings_with(production=True, jwt_secret=SecretStr("x" * 40), field_keyring=SecretStr(entry)))
