"""Where the committed contract artefacts live, so tests and the CLI can point at a copy."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# The package is installed editable from the workspace: contracts/src/simpul_contracts -> contracts/.
CONTRACTS_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Layout:
    """The contracts directory: schema snapshots, released revisions, topic catalogue, README."""

    root: Path = CONTRACTS_ROOT

    @property
    def schemas(self) -> Path:
        """Committed JSON Schema snapshots, one per event type."""
        return self.root / "schemas"

    @property
    def released(self) -> Path:
        """Append-only released revisions: released/<event_type>/<n>.json."""
        return self.root / "released"

    @property
    def topics(self) -> Path:
        """The topic catalogue."""
        return self.root / "topics.yaml"

    @property
    def readme(self) -> Path:
        """The integrators' README, whose event table is generated."""
        return self.root / "README.md"
