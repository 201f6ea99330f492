"""Splink 5 on DuckDB over one records CSV: the comparison run of bench/identity.py.

Runs INSIDE the separate venv made by splink_env.py (.local/bench-splink) and imports nothing from Simpul. It never
sees the truth: it writes, for every record, Splink's cluster at each threshold of a sweep, and the harness scores
them. Configured as a careful user would:

* cleaning: names lower-cased, accents and punctuation removed, honorifics (An., Ibu, Bu, Ny., Hj., Inaq...) and
  patronymics (bin/binti ...) removed, common abbreviations expanded (Moh./M./Muhamad... -> muhammad, Achmad ->
  ahmad, Abd. -> abdul, St./Sitti -> siti, L. -> lalu, Bq. -> baiq), old spelling mapped to new (oe->u, dj->j,
  tj->c, sj->sy, ch->kh); NIK/KK/village reduced to digits and nulled unless 16/16/10 digits; NIKs that are
  placeholders (one repeated digit, 1234567890123456, ten trailing zeros) or shared by more than 6 records nulled;
  birth date split into year, year-month (when known) and full date (when known).
* comparisons: name (exact with term-frequency adjustment, Jaro-Winkler >= 0.95, >= 2 shared tokens,
  Jaro-Winkler >= 0.88, 1 shared token, else), birth date (exact day, day/month swapped, Levenshtein 1, same month,
  same year with one side imprecise, same year, year +-1, else), NIK (exact, Levenshtein 1, 2), mother's name
  (exact with TF, Jaro-Winkler >= 0.9, shared token), village (exact, same kecamatan), sex exact. No KK
  comparison: the KK is household context shared by siblings (the domain notes say it is never an identity key);
  with a KK level, EM learned +13 bits for a shared KK and Splink's best F1 on seed 101 fell from 0.844 to 0.804,
  with five times the twin/sibling over-merges. KK stays a blocking rule (it finds candidates well).
* blocking for prediction: NIK; KK; first given name + birth year; last name + village; mother's last name + birth
  year; full birth date + village.
* training: probability two random records match from deterministic rules (recall 0.7), u by random sampling
  (1e7 pairs, seeded), m by expectation maximisation over three blocking rules (NIK; cleaned name; birth date +
  village).
* predict every blocked pair, then `cluster_pairwise_predictions_at_threshold` at each sweep threshold.

Timings: cleaning+loading, training, prediction, and each clustering, separately; end-to-end is the sum of the
first three and the clustering at the chosen threshold (the harness picks it).

Usage (inside the venv): python run_splink.py --input records.csv --output clusters.csv --meta meta.json
    [--seed N] [--thresholds 0.5,0.9,...] [--check-pairs pairs.csv]
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import re
import time
import unicodedata
from collections import Counter
from pathlib import Path

import duckdb
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

DEFAULT_THRESHOLDS = (
    0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.97, 0.98, 0.985, 0.99, 0.995, 0.9975,
    0.999, 0.9995, 0.9999, 0.99999, 0.999999,
)  # fmt: skip

HONORIFICS = {"an", "ananda", "sdr", "sdri", "ibu", "bu", "ny", "nyonya", "hj", "hajjah", "inaq", "amaq", "bpk"}
EXPANSIONS = {
    "m": "muhammad",
    "moh": "muhammad",
    "muh": "muhammad",
    "moch": "muhammad",
    "mohd": "muhammad",
    "muhamad": "muhammad",
    "mohammad": "muhammad",
    "mohamad": "muhammad",
    "mochammad": "muhammad",
    "muchammad": "muhammad",
    "mukhammad": "muhammad",
    "achmad": "ahmad",
    "akhmad": "ahmad",
    "ahmat": "ahmad",
    "abd": "abdul",
    "st": "siti",
    "sitti": "siti",
    "l": "lalu",
    "bq": "baiq",
}
COMMON_LEADS = {"muhammad", "ahmad", "abdul", "siti", "nur", "nurul", "sri", "lalu", "baiq", "putri", "dewi", "dwi"}
OLD_SPELLING = (("oe", "u"), ("dj", "j"), ("tj", "c"), ("sj", "sy"), ("ch", "kh"))
NON_LETTERS = re.compile(r"[^a-z ]+")


def clean_tokens(name: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode().lower()
    tokens = NON_LETTERS.sub(" ", folded.replace(".", ". ")).split()
    out: list[str] = []
    for raw in tokens:
        if raw in {"bin", "binti"}:
            break
        if raw in HONORIFICS:
            continue
        token = EXPANSIONS.get(raw, raw)
        for old, new in OLD_SPELLING:
            token = token.replace(old, new)
        out.append(token)
    return out


def digits(value: str, length: int) -> str | None:
    only = re.sub(r"\D", "", value or "")
    return only if len(only) == length else None


def is_placeholder(nik: str) -> bool:
    return len(set(nik)) == 1 or nik == "1234567890123456" or nik.endswith("0000000000")


def clean_row(row: dict[str, str]) -> dict[str, object]:
    tokens = clean_tokens(row["full_name"])
    mother = clean_tokens(row["mother_name"])
    given = [t for t in tokens if t not in COMMON_LEADS] or tokens
    birth, precision = row["birth_date"] or "", row["birth_date_precision"] or ""
    nik = digits(row["nik"], 16)
    return {
        "record_id": row["record_id"],
        "name_clean": " ".join(tokens) or None,
        "name_tokens": tokens or None,
        "name_first": given[0] if given else None,
        "name_last": tokens[-1] if tokens else None,
        "mother_clean": " ".join(mother) or None,
        "mother_tokens": mother or None,
        "mother_last": mother[-1] if mother else None,
        "dob_year": birth[:4] if len(birth) >= 4 else None,
        "dob_ym": birth[:7] if precision in {"day", "month"} and len(birth) >= 7 else None,
        "dob_day": birth if precision == "day" and len(birth) == 10 else None,
        "nik": None if nik is None or is_placeholder(nik) else nik,
        "kk": digits(row["kk_number"], 16),
        "village": digits(row["village_code"], 10),
        "sex": row["sex"] or None,
    }


def load(path: Path) -> list[dict[str, object]]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = [clean_row(r) for r in csv.DictReader(handle)]
    counts = Counter(r["nik"] for r in rows if r["nik"])
    for r in rows:
        if r["nik"] and counts[r["nik"]] > 6:
            r["nik"] = None
    return rows


def comparisons() -> list[object]:
    name = cl.CustomComparison(
        output_column_name="name",
        comparison_levels=[
            cll.NullLevel("name_clean"),
            cll.ExactMatchLevel("name_clean").configure(tf_adjustment_column="name_clean"),
            cll.JaroWinklerLevel("name_clean", 0.95),
            cll.ArrayIntersectLevel("name_tokens", 2),
            cll.JaroWinklerLevel("name_clean", 0.88),
            cll.ArrayIntersectLevel("name_tokens", 1),
            cll.ElseLevel(),
        ],
    )
    dob = cl.CustomComparison(
        output_column_name="birth_date",
        comparison_levels=[
            cll.CustomLevel("dob_year_l IS NULL OR dob_year_r IS NULL").configure(is_null_level=True),
            cll.CustomLevel("dob_day_l = dob_day_r", "exact day"),
            cll.CustomLevel(
                "substr(dob_day_l, 1, 4) = substr(dob_day_r, 1, 4) AND substr(dob_day_l, 6, 2) = "
                "substr(dob_day_r, 9, 2) AND substr(dob_day_l, 9, 2) = substr(dob_day_r, 6, 2)",
                "day and month swapped",
            ),
            cll.CustomLevel("levenshtein(dob_day_l, dob_day_r) <= 1", "one digit apart"),
            cll.CustomLevel("dob_ym_l = dob_ym_r", "same month"),
            cll.CustomLevel("dob_year_l = dob_year_r AND (dob_ym_l IS NULL OR dob_ym_r IS NULL)", "same year, vague"),
            cll.CustomLevel("dob_year_l = dob_year_r", "same year"),
            cll.CustomLevel("abs(try_cast(dob_year_l AS INTEGER) - try_cast(dob_year_r AS INTEGER)) <= 1", "year +-1"),
            cll.ElseLevel(),
        ],
    )
    mother = cl.CustomComparison(
        output_column_name="mother",
        comparison_levels=[
            cll.NullLevel("mother_clean"),
            cll.ExactMatchLevel("mother_clean").configure(tf_adjustment_column="mother_clean"),
            cll.JaroWinklerLevel("mother_clean", 0.9),
            cll.ArrayIntersectLevel("mother_tokens", 1),
            cll.ElseLevel(),
        ],
    )
    village = cl.CustomComparison(
        output_column_name="village",
        comparison_levels=[
            cll.NullLevel("village"),
            cll.ExactMatchLevel("village"),
            cll.CustomLevel("substr(village_l, 1, 6) = substr(village_r, 1, 6)", "same kecamatan"),
            cll.ElseLevel(),
        ],
    )
    return [
        name,
        dob,
        cl.LevenshteinAtThresholds("nik", [1, 2]),
        mother,
        village,
        cl.ExactMatch("sex"),
    ]


def settings() -> SettingsCreator:
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_id",
        comparisons=comparisons(),
        blocking_rules_to_generate_predictions=[
            block_on("nik"),
            block_on("kk"),
            block_on("name_first", "dob_year"),
            block_on("name_last", "village"),
            block_on("mother_last", "dob_year"),
            block_on("dob_day", "village"),
        ],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )


def train(linker: Linker, seed: int) -> None:
    linker.training.estimate_probability_two_random_records_match(
        [block_on("nik", "dob_day"), block_on("name_clean", "dob_day", "village")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7, seed=seed)
    for rule in (block_on("nik"), block_on("name_clean"), block_on("dob_day", "village")):
        linker.training.estimate_parameters_using_expectation_maximisation(rule)


def blocking_hits(con: duckdb.DuckDBPyConnection, predictions: str, pairs_csv: Path) -> dict[str, int]:
    con.execute(f"CREATE TABLE check_pairs AS SELECT * FROM read_csv('{pairs_csv}', header=true, all_varchar=true)")
    total = con.execute("SELECT count(*) FROM check_pairs").fetchall()[0][0]
    found = con.execute(
        f"""SELECT count(*) FROM check_pairs c JOIN (
              SELECT DISTINCT least(record_id_l, record_id_r) AS x, greatest(record_id_l, record_id_r) AS y
              FROM {predictions}) p
            ON p.x = least(c.a, c.b) AND p.y = greatest(c.a, c.b)"""
    ).fetchall()[0][0]
    return {"true_pairs": int(total), "compared": int(found)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--input", type=Path, required=True)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--meta", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--thresholds", default=",".join(str(t) for t in DEFAULT_THRESHOLDS))
    parser.add_argument("--check-pairs", type=Path)
    args = parser.parse_args()
    logging.getLogger("splink").setLevel(logging.WARNING)
    thresholds = [float(t) for t in args.thresholds.split(",")]
    timings: dict[str, object] = {}

    start = time.perf_counter()
    rows = load(args.input)
    con = duckdb.connect()
    db_api = DuckDBAPI(connection=con)
    records = db_api.register(rows, table_name="records")
    linker = Linker(records, settings(), log_level=logging.WARNING)
    timings["load_clean_s"] = time.perf_counter() - start

    start = time.perf_counter()
    train(linker, args.seed)
    timings["train_s"] = time.perf_counter() - start

    start = time.perf_counter()
    predictions = linker.inference.predict(warning_mode="never")
    timings["predict_s"] = time.perf_counter() - start
    compared = con.execute(f"SELECT count(*) FROM {predictions.physical_name}").fetchall()[0][0]

    clusters: dict[str, list[str]] = {str(r["record_id"]): [] for r in rows}
    cluster_times: dict[str, float] = {}
    for threshold in thresholds:
        start = time.perf_counter()
        clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=threshold
        )
        cluster_times[str(threshold)] = time.perf_counter() - start
        for record_id, cluster_id in con.execute(
            f"SELECT record_id, cluster_id FROM {clustered.physical_name}"
        ).fetchall():
            clusters[str(record_id)].append(str(cluster_id))
        clustered.drop_table_from_database_and_remove_from_cache()
    timings["cluster_s"] = cluster_times

    with args.output.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["record_id", *[f"t{t}" for t in thresholds]])
        writer.writerows([record_id, *ids] for record_id, ids in clusters.items())
    meta: dict[str, object] = {"thresholds": thresholds, "timings": timings, "compared_pairs": int(compared)}
    if args.check_pairs:
        meta["blocking"] = blocking_hits(con, predictions.physical_name, args.check_pairs)
    args.meta.write_text(json.dumps(meta, indent=2))


if __name__ == "__main__":
    main()
