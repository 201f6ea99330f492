"""Seeded survey files for the import tests and benchmark: good rows in the pilot villages, and bad rows whose
row numbers are known, each with one defect a cadre makes."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from dataclasses import dataclass

from registry.entrypoints.survey import COLUMN_NAMES

# Pilot villages and their kecamatan (the NIK's first six digits).
VILLAGES = ("35.09.08.2005", "35.09.11.2007", "35.09.27.2002", "35.09.27.2003", "52.03.19.2006", "52.03.20.2006",
            "52.08.02.2003", "52.08.02.2006")
GIVEN = ("Siti", "Nur", "Dewi", "Putri", "Ayu", "Rina", "Wulan", "Indah", "Budi", "Agus", "Joko", "Eko", "Rizki",
         "Dimas", "Fajar", "Hendra", "Muhammad", "Ahmad", "Lalu Satria", "Baiq Nurul")
FAMILY = ("Aminah", "Rahayu", "Lestari", "Saputra", "Hidayat", "Wahyudi", "Santoso", "Kurniawan", "Pratama",
          "Setiawan", "Maulana", "Anggraini", "")
MOTHERS = ("Sulastri", "Suparmi", "Ngatini", "Sumiati", "Baiq Rohani", "Inaq Sahnun", "Siti Khotijah")
HAZARDS = ("green_tobacco_sickness", "pesticides", "sharp_tools", "heavy_loads", "extreme_heat", "curing_barns")
# One defect per bad row, and the column the error report must name for it.
DEFECTS = {
    "no name": ("full_name", ""),
    "sex as a word": ("sex", "girl"),
    "village code too short": ("village_code", "35.09.11"),
    "village not in the reference data": ("village_code", "35.09.11.2999"),
    "NIK of 15 digits": ("nik", "350911420314000"),
    "birth date in the future": ("birth_date", "2031-01-01"),
    "impossible date": ("birth_date", "2014-02-30"),
    "unknown hazard": ("work_hazards", "volcano"),
    "consent without its date": ("consent_decided_on", ""),
    "grade 13": ("school_grade", "13"),
    "classification without a reason": ("classification_reason", ""),
    "hours beyond a week": ("work_hours_per_week", "200"),
}


@dataclass(frozen=True)
class Survey:
    """A survey's CSV text with the spreadsheet row numbers of its bad rows and the column each must be named by."""

    text: str
    rows: int
    bad: dict[int, str]

    @property
    def good(self) -> int:
        """Rows that should be registered."""
        return self.rows - len(self.bad)


def survey(rows: int, *, bad_share: float = 0.03, seed: int = 7, prefix: str = "SRV", fixed: bool = False) -> Survey:
    """`rows` survey rows, `bad_share` of them with one defect each; deterministic for a seed.

    `fixed` gives the same survey after the cadre fixed every bad row: the same rows with no defect."""
    rng = random.Random(seed)
    bad_rows = set(rng.sample(range(rows), round(rows * bad_share)))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMN_NAMES, lineterminator="\r\n")
    writer.writeheader()
    bad: dict[int, str] = {}
    defects = sorted(DEFECTS)
    for index in range(rows):
        row = _good_row(rng, f"{prefix}-{index:06d}")
        if index in bad_rows and not fixed:
            column, value = DEFECTS[defects[index % len(defects)]]
            row[column] = value
            bad[index + 2] = column  # the header is row 1
        writer.writerow(row)
    return Survey(out.getvalue(), rows, bad)


def _good_row(rng: random.Random, source_record_id: str) -> dict[str, str]:
    village = rng.choice(VILLAGES)
    born = dt.date(2008, 1, 1) + dt.timedelta(days=rng.randrange(365 * 10))
    female = rng.random() < 0.5
    name = f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}".strip()
    day = born.day + (40 if female else 0)
    nik = f"{village[:8].replace('.', '')}{day:02d}{born:%m%y}{rng.randrange(1, 9999):04d}" if rng.random() < 0.6 \
        else ""
    working = rng.random() < 0.7
    return {
        "source_record_id": source_record_id, "full_name": name, "aliases": name.split()[0],
        "sex": rng.choice(("P", "female")) if female else rng.choice(("L", "male")),
        "birth_date": born.isoformat(), "birth_date_precision": "day", "age_years": "",
        "village_code": village.replace(".", "") if rng.random() < 0.3 else village,
        "mother_name": rng.choice(MOTHERS), "nik": nik, "kk_number": "",
        "guardian_name": rng.choice(MOTHERS), "guardian_relationship": "mother",
        "guardian2_name": "", "guardian2_relationship": "",
        "school_status": rng.choice(("enrolled", "dropped_out")), "school_grade": str(rng.randint(1, 9)),
        "work_sectors": "tobacco" if working else "", "work_tasks": "stringing leaves" if working else "",
        "work_hours_per_week": str(rng.randint(5, 40)) if working else "",
        "work_hazards": ";".join(rng.sample(HAZARDS, 2)) if working else "",
        "classification": "child_labourer" if working else "at_risk",
        "classification_reason": "baseline survey",
        "consent_data_sharing": "given", "consent_referral": rng.choice(("given", "refused")),
        "consent_decided_on": "2026-10-01",
    }
