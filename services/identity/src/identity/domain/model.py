"""The Fellegi-Sunter match model: for every field level, m = P(level | same child), u = P(level | different).

A pair's match weight is log2 of the prior odds plus, per field, log2(m/u) of its level (0 for a missing field).
The parameters are estimated from the data itself, without labels, from pairs whose status the data settles:
candidate pairs sharing a child's own NIK are one child (m of the other fields); u of the name, birth date, sex and
village comes from random pairs, u of the mother's name and the family card from random pairs of one village (the
village's agreement is counted already, and within a village they agree far more often), and candidate pairs
holding two clearly different own NIKs are two children (u of any other field); the NIK's own m comes from pairs
with the same name and full birth date, its u from random pairs. The hand-set values below are Dirichlet
pseudo-counts, so that rare levels stay sensible on small data, and the whole model when there is too little. The
prior, the chance that two records are one child, is not a property of the fields but of the data's size (a
child's few records among ever more pairs): wherever a model is used, batch or live, the prior is the data's own
(`pair_match_rate`, from the pairs sharing a child's own NIK) once enough pairs settle it, and the stored prior
(that of the data the model was estimated from) only until then; EM estimates it when no rate is given.
Parameters and thresholds are stored as JSON.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from importlib import resources

import numpy as np
import numpy.typing as npt

from identity.domain.comparisons import (
    FIELD_INDEX,
    FIELDS,
    IDENTIFYING_EVIDENCE,
    NO_EVIDENCE,
    PARTIAL_EVIDENCE,
    Levels,
    level,
)

FloatArray = npt.NDArray[np.float64]
FORMAT_VERSION = 4  # 4: the name level `contained`
DEFAULT_MODEL = "default_model.json"  # shipped next to this module; `bench/identity.py --write-default-model`
PRIOR_STRENGTH = 2000.0  # pseudo-pairs behind the anchored m when EM refines it
ANCHOR_PRIOR_PAIRS = 50.0  # pseudo-pairs behind the hand-set m and u when anchoring
NAME_WEAK, NAME_SAME_COMMON = level("name", "weak"), level("name", "same_common")
BIRTH_SAME, NIK_SAME_NOT_CHILDS = level("birth", "same"), level("nik", "same_not_childs")
CAP_MARGIN_BITS = 1.0  # a pair without enough evidence scores at least this far below the threshold it may not reach
REFINE_M = False
RANDOM_U_FIELDS = frozenset({"name", "birth", "sex", "village"})
SAME_VILLAGE_U_FIELDS = frozenset({"mother", "kk"})
VILLAGE_SAME = level("village", "same")
MIN_SAME_VILLAGE_PAIRS = 2000
# Pairs sharing a child's own NIK before the data settles its match rate (`pair_match_rate`): a count of k pairs is
# off by about 1/sqrt(k), so 25 put the prior within about 0.3 bits, well inside the bit between the thresholds.
MIN_RATE_PAIRS = 25
EM_ITERATIONS = 40
EM_TOLERANCE = 1e-6
PROBABILITY_CLIP = 1e-9

# Hand-set starting points, also the whole model when there is too little data to estimate from.
# Per field, the values are for levels 1.. (level 0, missing, carries no evidence).
_PRIOR_M = {
    "name": (0.005, 0.025, 0.05, 0.06, 0.06, 0.05, 0.15, 0.15, 0.30, 0.20),
    "sex": (0.03, 0.97),
    "birth": (0.002, 0.048, 0.08, 0.12, 0.10, 0.03, 0.62),
    "nik": (0.01, 0.06, 0.02, 0.01, 0.90),
    "mother": (0.10, 0.15, 0.75),
    "kk": (0.30, 0.70),
    "village": (0.03, 0.05, 0.10, 0.82),
}
_PRIOR_U = {
    "name": (0.85, 0.05, 0.08, 0.008, 0.002, 0.01, 0.005, 0.004, 0.0005, 0.00005),
    "sex": (0.5, 0.5),
    "birth": (0.80, 0.13, 0.03, 0.03, 0.005, 0.0002, 0.0003),
    "nik": (0.998, 0.001, 0.001, 0.0005, 0.000001),
    "mother": (0.98, 0.01, 0.01),
    "kk": (0.999, 0.001),
    "village": (0.80, 0.10, 0.07, 0.03),
}


@dataclass(frozen=True)
class ModelIdentity:
    """Which model is in force: its name and version (as stored with it) and a checksum of its parameters."""

    name: str
    version: str
    checksum: str


@dataclass
class MatchModel:
    """m and u per field level (index 0, missing, unused), the prior match rate among pairs of the data it was
    estimated from, and the two decision thresholds on the match probability; `about` names the model (name,
    version, how it was made)."""

    prior: float
    m: list[FloatArray]
    u: list[FloatArray]
    auto_link: float = 0.95
    review: float = 0.9  # below it, a pair is too unlikely to ask a reviewer about (issue 9: at most 5 % in review)
    estimated_from: dict[str, int] = field(default_factory=dict)
    about: dict[str, str] = field(default_factory=dict)

    @classmethod
    def default(cls) -> MatchModel:
        """The shipped default: estimated from generated records and checked by the benchmark (see `about`)."""
        shipped = resources.files("identity.domain").joinpath(DEFAULT_MODEL)
        return cls.from_json(shipped.read_text(encoding="utf-8")) if shipped.is_file() else cls.hand_set()

    @classmethod
    def hand_set(cls) -> MatchModel:
        """The hand-set starting point of estimation (its pseudo-counts); never used to link on its own."""
        return cls(
            0.02,
            [_levels(_PRIOR_M[f.name]) for f in FIELDS],
            [_levels(_PRIOR_U[f.name]) for f in FIELDS],
            about={"name": "hand-set", "version": str(FORMAT_VERSION)},
        )

    def identity(self) -> ModelIdentity:
        """Name, version and checksum of the parameters, to show which model is in force."""
        document = json.loads(self.to_json())
        document.pop("about", None)
        digest = hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:16]
        return ModelIdentity(self.about.get("name", "unnamed"), self.about.get("version", ""), digest)

    def scores(self, levels: Levels, evidence: Levels, prior: float | None = None) -> FloatArray:
        """Match weights in bits (with `prior`, the data's match rate, when it is known: see `pair_match_rate`),
        held below the auto-link threshold for pairs without identifying evidence and below the review threshold
        for pairs with none (see `comparisons.evidence`)."""
        weights = self.match_weights(levels, prior)
        caps = np.full(len(weights), np.inf)
        caps[evidence == PARTIAL_EVIDENCE] = _logit2(self.auto_link) - CAP_MARGIN_BITS
        caps[evidence == NO_EVIDENCE] = _logit2(self.review) - CAP_MARGIN_BITS
        capped: FloatArray = np.where(evidence == IDENTIFYING_EVIDENCE, weights, np.minimum(weights, caps))
        return capped

    def level_weights(self) -> list[FloatArray]:
        """log2(m/u) per field level; 0 for missing."""
        weights = []
        for m, u in zip(self.m, self.u, strict=True):
            weight = np.log2(np.maximum(m, PROBABILITY_CLIP) / np.maximum(u, PROBABILITY_CLIP))
            weight[0] = 0.0
            weights.append(weight)
        return weights

    def match_weights(self, levels: Levels, prior: float | None = None) -> FloatArray:
        """Match weight in bits of each pair (rows of levels), prior included (the model's unless given)."""
        chance = self.prior if prior is None else prior
        total = np.full(len(levels), math.log2(chance / (1 - chance)))
        for position, weight in enumerate(self.level_weights()):
            total += weight[levels[:, position]]
        return total

    def contributions(
        self, levels: Levels, level_weights: list[FloatArray] | None = None
    ) -> list[tuple[str, str, float]]:
        """(field, level, weight in bits) of one pair: why it scored as it did (`level_weights` when the caller
        has them already)."""
        weights = level_weights or self.level_weights()
        return [
            (f.name, f.levels[level], round(float(weights[i][level]), 2))
            for i, (f, level) in enumerate(zip(FIELDS, levels.tolist(), strict=True))
        ]

    def to_json(self) -> str:
        """The parameters as a JSON document."""
        return json.dumps(
            {
                "format": FORMAT_VERSION,
                "prior": self.prior,
                "auto_link": self.auto_link,
                "review": self.review,
                "estimated_from": self.estimated_from,
                "about": self.about,
                "fields": {
                    f.name: {
                        "levels": list(f.levels),
                        "m": self.m[i].round(8).tolist(),
                        "u": self.u[i].round(8).tolist(),
                    }
                    for i, f in enumerate(FIELDS)
                },
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str) -> MatchModel:
        """Parameters stored by `to_json`; ValueError if they do not fit this version's fields and levels."""
        document = json.loads(text)
        if document.get("format") != FORMAT_VERSION:
            raise ValueError(f"model format {document.get('format')!r}, expected {FORMAT_VERSION}: a model estimated "
                             "by an older version; estimate it again (`simpul identity estimate`) or unset "
                             "IDENTITY_MATCH_MODEL_PATH to use the shipped default")
        fields = document["fields"]
        for f in FIELDS:
            if fields.get(f.name, {}).get("levels") != list(f.levels):
                raise ValueError(f"model field {f.name!r}: levels differ from {list(f.levels)}")
        return cls(
            float(document["prior"]),
            [np.array(fields[f.name]["m"], dtype=np.float64) for f in FIELDS],
            [np.array(fields[f.name]["u"], dtype=np.float64) for f in FIELDS],
            float(document["auto_link"]),
            float(document["review"]),
            dict(document.get("estimated_from", {})),
            {str(k): str(v) for k, v in document.get("about", {}).items()},
        )


def pair_match_rate(same_nik_pairs: int, own_nik_records: int, records: int) -> float | None:
    """The chance that two records of the data are one child, or None while fewer than MIN_RATE_PAIRS pairs share
    a child's own NIK. Those pairs are one child; they are scaled up by the share of pairs in which both records
    hold their own NIK (a NIK is present independently of how many records a child has). The chance falls with
    the number of records (a child's few records among ever more pairs), so it is the data's, never a stored
    model's: a model estimated from 46,000 records puts it 20 times too low for 2,000."""
    if same_nik_pairs < MIN_RATE_PAIRS or records < 2:
        return None
    own_share = own_nik_records / records
    all_pairs = records * (records - 1) / 2
    return float(np.clip(same_nik_pairs / max(own_share**2, 1e-3) / all_pairs, 1e-9, 0.5))


def _logit2(chance: float) -> float:
    return math.log2(chance / (1 - chance))


def probability(weights: FloatArray) -> FloatArray:
    """Match probability of match weights in bits."""
    return 1.0 / (1.0 + np.exp2(-np.clip(weights, -60, 60)))


def estimate(
    candidates: Levels,
    *,
    sure_matches: npt.NDArray[np.bool_],
    sure_non_matches: npt.NDArray[np.bool_],
    random_pairs: Levels,
    start: MatchModel | None = None,
    pair_match_rate: float | None = None,
) -> MatchModel:
    """Parameters from the data: m from candidate pairs that are surely one child (the same own NIK; for the NIK
    itself, the same name and full birth date), u from random pairs (of one village for the mother and family
    card), else from candidate pairs surely two (two clearly different own NIKs), then the prior and m refined
    by EM over all candidates."""
    model = start or MatchModel.hand_set()
    nik = FIELD_INDEX["nik"]
    by_name_and_birth = (candidates[:, FIELD_INDEX["name"]] >= NAME_SAME_COMMON) & (
        candidates[:, FIELD_INDEX["birth"]] == BIRTH_SAME
    )
    # The mother's name and family card agree far more often within a village than across; the village's
    # agreement is already counted, so their u is taken among random pairs of one village.
    same_village = random_pairs[random_pairs[:, FIELD_INDEX["village"]] == VILLAGE_SAME]
    m, u = [], []
    for i in range(len(FIELDS)):
        matches = candidates[by_name_and_birth if i == nik else sure_matches, i]
        m.append(_frequencies(matches, model.m[i], ANCHOR_PRIOR_PAIRS))
        if i == nik:
            u.append(_nik_u(candidates, random_pairs, model.u[i]))
        elif FIELDS[i].name in SAME_VILLAGE_U_FIELDS and len(same_village) >= MIN_SAME_VILLAGE_PAIRS:
            u.append(_frequencies(same_village[:, i], model.u[i], ANCHOR_PRIOR_PAIRS))
        elif FIELDS[i].name in RANDOM_U_FIELDS:
            u.append(_frequencies(random_pairs[:, i], model.u[i], ANCHOR_PRIOR_PAIRS))
        else:
            u.append(_frequencies(candidates[sure_non_matches, i], model.u[i], ANCHOR_PRIOR_PAIRS))
    patterns, counts = _patterns(candidates)
    prior = model.prior if pair_match_rate is None else pair_match_rate
    if counts is not None and pair_match_rate is None:
        m, prior = _expectation_maximisation(patterns, counts.astype(np.float64), m, u, prior)
    return MatchModel(
        prior,
        m,
        u,
        model.auto_link,
        model.review,
        {
            "candidate_pairs": len(candidates),
            "sure_matches": int(sure_matches.sum()),
            "sure_non_matches": int(sure_non_matches.sum()),
            "random_pairs": len(random_pairs),
        },
        {"name": "estimated", "version": str(FORMAT_VERSION)},
    )


def _nik_u(candidates: Levels, random_pairs: Levels, prior: FloatArray) -> FloatArray:
    """u of the NIK levels. How rarely two children share a NIK shows in random pairs; how often their NIKs are a
    digit or two apart shows only among candidates (blocked pairs share a kecamatan and a birth month, and so
    most of their NIK), taken from candidate pairs whose names differ, for reasons independent of the NIK."""
    nik = FIELD_INDEX["nik"]
    shared = _frequencies(random_pairs[:, nik], prior, ANCHOR_PRIOR_PAIRS)
    names_differ = (candidates[:, FIELD_INDEX["name"]] > 0) & (candidates[:, FIELD_INDEX["name"]] <= NAME_WEAK)
    apart = candidates[names_differ & (candidates[:, nik] < NIK_SAME_NOT_CHILDS), nik]
    u: FloatArray = _frequencies(apart, prior, ANCHOR_PRIOR_PAIRS) * (1.0 - shared[NIK_SAME_NOT_CHILDS:].sum())
    u[NIK_SAME_NOT_CHILDS:] = shared[NIK_SAME_NOT_CHILDS:]
    return u


def _patterns(levels: Levels) -> tuple[Levels, npt.NDArray[np.int64] | None]:
    """The distinct rows of levels and how often each occurs (rows coded as one integer: sorting is fast)."""
    if not len(levels):
        return levels, None
    radix = max(len(f.levels) for f in FIELDS)
    codes = np.zeros(len(levels), dtype=np.int64)
    for column in range(levels.shape[1]):
        codes = codes * radix + levels[:, column]
    distinct, counts = np.unique(codes, return_counts=True)
    patterns = np.zeros((len(distinct), levels.shape[1]), dtype=np.int8)
    for column in reversed(range(levels.shape[1])):
        distinct, patterns[:, column] = np.divmod(distinct, radix)
    return patterns, counts


def _expectation_maximisation(
    patterns: Levels, counts: FloatArray, m: list[FloatArray], u: list[FloatArray], prior: float
) -> tuple[list[FloatArray], float]:
    m_priors = [column.copy() for column in m]
    for _ in range(EM_ITERATIONS):
        log_m = np.full(len(patterns), math.log(prior))
        log_u = np.full(len(patterns), math.log(1 - prior))
        for i in range(len(FIELDS)):
            log_m += np.log(np.maximum(m[i], PROBABILITY_CLIP))[patterns[:, i]] * (patterns[:, i] > 0)
            log_u += np.log(np.maximum(u[i], PROBABILITY_CLIP))[patterns[:, i]] * (patterns[:, i] > 0)
        posterior = 1.0 / (1.0 + np.exp(np.clip(log_u - log_m, -700, 700)))
        weighted = posterior * counts
        new_prior = float(np.clip(weighted.sum() / counts.sum(), 1e-4, 1 - 1e-4))
        if REFINE_M:
            m = [_frequencies(patterns[:, i], m_priors[i], PRIOR_STRENGTH, weighted) for i in range(len(FIELDS))]
        converged = abs(new_prior - prior) < EM_TOLERANCE
        prior = new_prior
        if converged:
            break
    return m, prior


def _frequencies(
    levels: npt.NDArray[np.int8], prior: FloatArray, strength: float, weights: FloatArray | None = None
) -> FloatArray:
    """Level frequencies among non-missing values, smoothed by `strength` pseudo-observations of the prior."""
    counts = np.bincount(levels.astype(np.int64), weights=weights, minlength=len(prior)).astype(np.float64)
    counts[0] = 0.0
    smoothed = counts + strength * prior
    smoothed[0] = 0.0
    frequencies: FloatArray = smoothed / smoothed.sum()
    return frequencies


def _levels(values: tuple[float, ...]) -> FloatArray:
    column = np.array((0.0, *values), dtype=np.float64)
    frequencies: FloatArray = column / column.sum()
    return frequencies
