"""The identity service's shipped default match model, regenerated from generated records.

`write(path)` generates the development seed's records (`SEED`, `CHILDREN` children: benchmark size) with
`identity_support.generator`, estimates the model from them exactly as `simpul identity dedupe` and
`simpul identity estimate` do (no labels: NIK-anchored pairs, random pairs, EM for the prior), names it and
writes it as JSON. The held-out seeds of the benchmark are never used, so they still check it. Run through
`.venv/bin/python bench/identity.py --write-default-model`.
"""

from __future__ import annotations

from pathlib import Path

from bench.identity_support.generator import generate
from identity.domain.model import MatchModel
from identity.domain.records import parse_record
from identity.service_layer.dedupe import dedupe_records

SEED = 1  # a development seed
CHILDREN = 20_000
NAME = "simpul-default"
VERSION = "4.1"  # model format 4 (name level `contained`), first estimate; bump when generator or estimation change
SHIPPED = Path(__file__).resolve().parents[2] / "services/identity/src/identity/domain/default_model.json"


def estimate(seed: int = SEED, children: int = CHILDREN) -> MatchModel:
    """The model estimated from one generated data set, named for the service to show."""
    dataset = generate(seed, children)
    model = dedupe_records([parse_record(raw) for raw in dataset.records]).model
    model.about = {
        "name": NAME,
        "version": VERSION,
        "produced_by": f"bench/identity.py --write-default-model (generator seed {seed}, {children} children, "
        f"{len(dataset.records)} records; estimated as simpul identity dedupe does)",
    }
    return model


def write(path: Path = SHIPPED, seed: int = SEED, children: int = CHILDREN) -> MatchModel:
    """Estimate and write the default model; returns it."""
    model = estimate(seed, children)
    path.write_text(model.to_json() + "\n", encoding="utf-8")
    return model
