"""Seeded generator of realistic child records for the identity benchmark.

`generate(seed, children)` builds a small world first, then observes it through four sources:

World
* Villages: the eight pilot villages (official codes) plus synthetic villages in the same kecamatan and
  districts (`children // 500` villages in all, at least 8). Village sizes are skewed (Pareto weights, pilot
  villages the largest), so some villages hold thousands of children and many common-name collisions.
* Households: a mother (name, NIK, birth year), a father's given name, a KK number, a village. Children per
  household 1: 34 %, 2: 34 %, 3: 19 %, 4: 9 %, 5: 4 %. Siblings are 1-4 years apart; 3 % of households have a
  pair of twins (same birth date; 35 % of twin pairs get near-identical names such as Hasan/Husain, Rafi/Rafa,
  Putra/Putri). Lombok households use Sasak names (12 % noble: Lalu/Baiq), Jember households Javanese or
  Madurese names. Given names are drawn with Zipf weights, so Muhammad, Siti, Nur, Sri, Putri, Dewi, Rizki...
  are very common; 22 % of children have a single name, 8 % carry a patronymic (bin/binti + father's name).
* Moves: 6 % of households move (70 % within the kecamatan) and get a new KK; 4 % split (new KK, same
  village). Each observation of such a child shows the old state with probability 0.4.
* NIK: `PP RR SS DDMMYY NNNN` from the kecamatan of first registration and the registered birth date (day + 40
  for girls), serial unique per (kecamatan, date). 6 % of children have no NIK anywhere; for 3 % the
  registered birth date (NIK and district system) differs from the true one.

Observations: 1-4 records per child (1: 22 %, 2: 38 %, 3: 26 %, 4: 14 %), from distinct sources except 5 %
duplicates within a source. Per source (village_survey / district_system / school / provider):

| field / corruption            | survey | district | school | provider |
| ----------------------------- | ------ | -------- | ------ | -------- |
| NIK present                   | 0.45   | 0.95     | 0.75   | 0.35     |
| KK present                    | 0.35   | 0.92     | 0.55   | 0.20     |
| mother's name present         | 0.92   | 0.85     | 0.90   | 0.55     |
| birth date day / month / year / missing | .55/.15/.25/.05 | .98/.01/0/.01 | .93/.03/.02/.02 | .50/.15/.30/.05 |
| name spelling variant         | 0.30   | 0.12     | 0.20   | 0.30     |
| name typo                     | 0.10   | 0.04     | 0.06   | 0.10     |
| name part dropped / reordered | .12/.03 | .03/.01 | .08/.02 | .15/.03  |
| name in capitals              | 0.20   | 0.90     | 0.30   | 0.10     |

Further, independent of source: a present NIK is mistyped in 1-2 digits 4 %, the mother's NIK 2.5 %, a
placeholder 2 %; a present KK is mistyped 2 %; a full birth date has day and month swapped 5 % (when both are
<= 12), the year off by one 2 %, the day mistyped 2 %; sex missing 3 %, wrong 0.8 %; village code missing 2 %,
a neighbouring village 1 %, written with dots half of the time (district system never); the child's name gets
an honorific ("An.") 2 % in survey/provider records; the mother's name appears as full name 45 %, one part
only 25 %, with an honorific (Ibu/Bu/Ny./Hj., Inaq in Lombok) 18 %, in another spelling 12 % (plus typos 5 %).
Spelling variants are old/new spelling (u/oe, j/dj, c/tj, y/j, kh/ch/h, sy/sj), Muhammad/Muhamad/Mohammad/
Moh./M./Muh., Ahmad/Achmad/Akhmad, Abdul/Abd., Siti/Sitti, final h dropped, i/y/ie endings, q/k, dh/d, f/p.
Sasak prefixes are dropped or abbreviated (L./Bq.); patronymics dropped half of the time.

Everything is drawn from one `random.Random(seed)`, so a seed always gives the same data set.

`Variation` scales these settings (spelling variant, typo, dropped and reordered part rates; the share of short
forms, of children without a NIK, of households that move, of twins); `Variation.drawn(seed)` draws one setting
per seed from wide ranges, so that a benchmark reports a spread over unlike data sets, not one tuned-for world.
The default `Variation()` changes nothing: the same seed gives the same data set as without it.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

FIELDS = (
    "record_id",
    "source",
    "full_name",
    "sex",
    "birth_date",
    "birth_date_precision",
    "nik",
    "kk_number",
    "mother_name",
    "village_code",
)

# --------------------------------------------------------------------------------------------------- places

PILOT_VILLAGES = (
    "3509112007",  # Kesilir, Wuluhan, Jember
    "3509082005",  # Wringintelu, Puger, Jember
    "3509272002",  # Sukoreno, Kalisat, Jember
    "3509272003",  # Patempuran, Kalisat, Jember
    "5203202006",  # Pandan Wangi, Jerowaru, Lombok Timur
    "5203192006",  # Borok Toyang, Sakra Barat, Lombok Timur
    "5208022003",  # Genggelang, Gangga, Lombok Utara
    "5208022006",  # Selelos, Gangga, Lombok Utara
)
# Kecamatan of the three pilot districts used for synthetic villages (pilot kecamatan first).
KECAMATAN = (
    "350911",
    "350908",
    "350927",
    "520320",
    "520319",
    "520802",
    "350901",
    "350902",
    "350910",
    "520301",
    "520305",
    "520801",
    "520803",
)

# --------------------------------------------------------------------------------------------------- names
# Ordered roughly by frequency: weights are Zipf over the list position.


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


JAVA_MALE = _words(
    "Rizki Fajar Dimas Bagus Eko Agus Budi Wahyu Adi Arif Andi Aditya Rafi Rizal Fauzi Hasan Ilham Irfan Yusuf "
    "Bayu Danu Galih Hendra Indra Lukman Nanda Pandu Putra Rangga Reza Rendi Sandi Satria Taufik Wawan Yudi Ali "
    "Anwar Arifin Ikhsan Imam Fikri Faris Firman Hafiz Haris Alfian Akbar Dafa Farel Gilang Raka Rio Slamet "
    "Joko Bambang Teguh Yoga Krisna Ardi Bima Cahyo Candra Dani Edi Fahri Fahmi Hadi Iqbal Jaya Kurnia Naufal "
    "Rehan Rasya Zidan Alif Azka Dzaki Ridho Sulthon Umar Yahya Zainal Zaki Syaiful Sugeng Jumadi Warsito"
)
MADURA_MALE = _words(
    "Holil Hosnan Subairi Sahrawi Busiri Hairul Hasbullah Juhari Marsuki Rofiki Fathorrahman Saiful Sahrul "
    "Samsul Matrawi Sunaryo Abdurrahman Ainur Habibi Jumali Kholilurrahman Mahfud Nurul Rofiq Sholeh Suhri"
)
SASAK_MALE = _words(
    "Zainul Sahnan Hirjan Saeful Sapii Ruslan Mahsun Supardi Zulkifli Rusdi Junaidi Saparudin Haerudin Khairul "
    "Marzuki Hamdi Jumadil Rozi Ardi Wiradi Fathurrahman Mukhsin Rizki Fajar Hasan Ilham Yusuf Ahyar Azhar "
    "Muslim Sukri Suhaili Amrullah Hafizin Jamaluddin Kamarudin Lukmanul Najamudin Syamsul"
)
JAVA_FEMALE = _words(
    "Aisyah Putri Dewi Ayu Rina Rini Lestari Aminah Fatimah Indah Intan Citra Dian Eka Fitri Lina Maya Novi "
    "Rahma Rohmah Salsabila Nabila Zahra Aulia Anisa Amelia Bella Desi Elok Halimah Khadijah Laila Maryam "
    "Nadia Rizka Suci Umi Wulan Yuni Zaskia Hasanah Ratna Safitri Septi Tiara Vina Wahyuni Yuliana Alya "
    "Aini Dinda Kirana Keisha Nayla Azizah Hanifah Mutiara Kartika Wati Yanti Sumiati Sulastri Endang Tutik "
    "Puji Erna Lilis Rukmini Ningsih Jamilah Mega Sinta Tika Zulfa Ika Fina Nisa"
)
MADURA_FEMALE = _words(
    "Holifah Hotimah Maimunah Munawaroh Sumarni Musyarofah Rohimah Suhaimah Jamilah Ummi Hosniyah Faridah "
    "Sunaiyah Mukarromah Nurhasanah Rofiqoh Sholihah Hayati Fauziyah Badriyah"
)
SASAK_FEMALE = _words(
    "Rumenah Sukrah Nurhidayah Sahnun Mahnun Hurniati Rohani Marni Murniati Nurul Hajar Rabiatul Adawiyah "
    "Sumarni Herniwati Sartini Fitriani Lia Mutia Zuhriah Rauhun Inun Nursiah Erna Aisyah Fatimah Rahmi "
    "Juliana Nuraini Sri Mariana Hikmah Husnul Baiqun Yulianti Nurjannah Saodah Rukiah Halimatus"
)
MALE_SECOND = _words(
    "Pratama Saputra Setiawan Prasetyo Ramadhan Hidayat Kurniawan Wijaya Nugroho Santoso Firmansyah Maulana "
    "Alfarizi Akbar Fadillah Hakim Rahman Syahputra Ardiansyah Hermawan Wibowo Fauzan Hidayatullah Ilham "
    "Mubarok Permana Rizqullah Arrasyid Alfian Anshori"
)
FEMALE_SECOND = _words(
    "Lestari Rahayu Wulandari Safitri Ramadhani Handayani Puspitasari Anggraini Kurniasih Wahyuni Maharani "
    "Oktaviani Permatasari Azzahra Nuraini Hidayati Fitriani Khoirunnisa Sholehah Aprilia Agustina Novitasari "
    "Rahmawati Susanti Maulida Nurhaliza Febriani Salsabila"
)
MALE_LEAD = (("Muhammad", 30), ("Ahmad", 8), ("Abdul", 3), ("Moh.", 4), ("Nur", 2))
FEMALE_LEAD = (("Siti", 15), ("Nur", 8), ("Sri", 5), ("Putri", 5), ("Dewi", 4), ("Nurul", 4), ("Dwi", 3))
MOTHER_GIVEN = _words(
    "Aminah Sumiati Wahyuni Suharti Sulastri Juwariyah Tumini Painem Sumarni Endang Sutini Rukmini Rohani "
    "Murniati Yuliani Nurhayati Kartini Mariyam Fatimah Khotijah Romlah Masruroh Suwarni Jumaiyah Sukarti "
    "Umi Halimah Sunarsih Tuminah Sariyem Ngatini Rumenah Sahnun Hurniati Holifah Hotimah Maimunah Saodah "
    "Mahnun Inun Rauhun Nursiah Zainab Hasanah Sulaiha Kholifah Musyarofah Salamah Aisyah Rokayah Sri Lilik"
)
MOTHER_LEAD = (("Siti", 25), ("Sri", 8), ("Nur", 5), ("Hj.", 2))
FATHER_GIVEN = _words(
    "Abdullah Sulaiman Ahmad Muhammad Hasan Slamet Sukirman Paiman Suparno Sahnan Marzuki Mahsun Holil Hosnan "
    "Juhari Subairi Saeful Supardi Rusdi Sukri Hamid Yusuf Ismail Ibrahim Usman Amir Kasim Salim Jumadi"
)
# Pairs of near-identical names twins sometimes get.
TWIN_PAIRS = (
    ("Hasan", "Husain", "male", "male"),
    ("Hasan", "Husein", "male", "male"),
    ("Rafi", "Rafa", "male", "male"),
    ("Fahri", "Fahmi", "male", "male"),
    ("Dafa", "Dafi", "male", "male"),
    ("Dimas", "Damar", "male", "male"),
    ("Putra", "Putri", "male", "female"),
    ("Rizki", "Rizka", "male", "female"),
    ("Nabil", "Nabila", "male", "female"),
    ("Zaki", "Zakia", "male", "female"),
    ("Aini", "Aina", "female", "female"),
    ("Alya", "Alma", "female", "female"),
    ("Salwa", "Salma", "female", "female"),
    ("Rani", "Rina", "female", "female"),
    ("Fitri", "Fitra", "female", "female"),
)

SOURCES = ("village_survey", "district_system", "school", "provider")


@dataclass(frozen=True)
class Variation:
    """Multipliers of the per-source name corruption rates and absolute shares of the world's settings."""

    variant: float = 1.0
    typo: float = 1.0
    drop: float = 1.0
    reorder: float = 1.0
    short_form: float = 0.0  # share of names whose Muhammad / Ahmad / Abdul / Siti / Nur is written short (M., Abd.)
    no_nik: float = 0.06
    moves: float = 0.10
    twins: float = 0.03

    @classmethod
    def drawn(cls, seed: int) -> Variation:
        """One setting per seed, from its own generator (the data set's draws are not shifted by it)."""
        rng = random.Random(f"variation-{seed}")
        return cls(
            variant=round(rng.uniform(0.5, 2.0), 2),
            typo=round(rng.uniform(0.5, 2.5), 2),
            drop=round(rng.uniform(0.5, 2.5), 2),
            reorder=round(rng.uniform(0.5, 4.0), 2),
            short_form=round(rng.uniform(0.0, 0.3), 2),
            no_nik=round(rng.uniform(0.03, 0.30), 3),
            moves=round(rng.uniform(0.05, 0.25), 3),
            twins=round(rng.uniform(0.01, 0.06), 3),
        )


@dataclass(frozen=True)
class SourceProfile:
    nik: float
    kk: float
    mother: float
    precision: tuple[float, float, float, float]  # day, month, year, missing
    variant: float
    typo: float
    drop: float
    reorder: float
    upper: float
    dots: float
    honorific: float
    patronymic: float


PROFILES = {
    "village_survey": SourceProfile(0.45, 0.35, 0.92, (0.55, 0.15, 0.25, 0.05), 0.30, 0.10, 0.12, 0.03, 0.20, 0.7,
                                    0.02, 0.7),
    "district_system": SourceProfile(0.95, 0.92, 0.85, (0.98, 0.01, 0.0, 0.01), 0.12, 0.04, 0.03, 0.01, 0.90, 0.0,
                                     0.0, 0.2),
    "school": SourceProfile(0.75, 0.55, 0.90, (0.93, 0.03, 0.02, 0.02), 0.20, 0.06, 0.08, 0.02, 0.30, 0.5, 0.0, 0.5),
    "provider": SourceProfile(0.35, 0.20, 0.55, (0.50, 0.15, 0.30, 0.05), 0.30, 0.10, 0.15, 0.03, 0.10, 0.5, 0.02,
                              0.5),
}  # fmt: skip

RECORDS_PER_CHILD = ((1, 0.22), (2, 0.38), (3, 0.26), (4, 0.14))
MEAN_RECORDS_PER_CHILD = sum(n * p for n, p in RECORDS_PER_CHILD)
REFERENCE_DATE = dt.date(2025, 6, 30)
PLACEHOLDER_NIKS = ("0000000000000000", "1234567890123456", "9999999999999999", "1111111111111111")


# --------------------------------------------------------------------------------------------------- world


@dataclass
class Village:
    code: str  # 10 digits
    region: str  # "java" or "lombok"
    weight: float


@dataclass
class Child:
    child_id: str
    household_id: str
    name: str  # full form, including prefix and patronymic when the child has one
    patronymic: str  # "" or "bin X"/"binti X"
    sex: str
    birth: dt.date
    registered_birth: dt.date
    nik: str


@dataclass
class Household:
    household_id: str
    region: str
    village: str
    kk: str
    mother_name: str
    mother_nik: str
    father_given: str
    noble: bool
    madurese: bool
    old_village: str = ""  # set when the household moved or split: the earlier state
    old_kk: str = ""
    children: list[Child] = field(default_factory=list)


@dataclass
class Dataset:
    """Records as they arrive, plus the truth needed to score a clustering of them."""

    seed: int
    records: list[dict[str, str]]
    truth: dict[str, str]  # record_id -> true child id
    household_of: dict[str, str]  # child id -> household id
    twins: list[tuple[str, str]]
    siblings: list[tuple[str, str]]  # non-twin siblings
    villages: list[str]

    @property
    def children(self) -> int:
        return len(self.household_of)

    def related_pairs(self) -> list[tuple[str, str, str]]:
        """Every twin or sibling child pair, as (child a, child b, "twin" | "sibling")."""
        return [(a, b, "twin") for a, b in self.twins] + [(a, b, "sibling") for a, b in self.siblings]


def _zipf(items: Sequence[str], s: float = 0.9) -> tuple[Sequence[str], list[float]]:
    return items, list(itertools.accumulate(1.0 / (i + 1) ** s for i in range(len(items))))


_POOLS = {
    ("java", "male"): _zipf(JAVA_MALE),
    ("madura", "male"): _zipf(MADURA_MALE + JAVA_MALE[:30]),
    ("lombok", "male"): _zipf(SASAK_MALE),
    ("java", "female"): _zipf(JAVA_FEMALE),
    ("madura", "female"): _zipf(MADURA_FEMALE + JAVA_FEMALE[:30]),
    ("lombok", "female"): _zipf(SASAK_FEMALE),
    ("second", "male"): _zipf(MALE_SECOND, 0.7),
    ("second", "female"): _zipf(FEMALE_SECOND, 0.7),
    ("mother", ""): _zipf(MOTHER_GIVEN, 0.7),
    ("father", ""): _zipf(FATHER_GIVEN, 0.7),
}


def _pick(rng: random.Random, pool: tuple[Sequence[str], list[float]]) -> str:
    return rng.choices(pool[0], cum_weights=pool[1])[0]


def _weighted(rng: random.Random, options: Iterable[tuple[str, float]]) -> str | None:
    """One of the options by weight, or None with the remaining probability (weights are probabilities)."""
    draw = rng.random()
    for value, p in options:
        if draw < p:
            return value
        draw -= p
    return None


def _villages(rng: random.Random, count: int) -> list[Village]:
    villages = [
        Village(code, "lombok" if code.startswith("52") else "java", 3.0 + rng.random()) for code in PILOT_VILLAGES
    ]
    serial = itertools.count(41)  # synthetic village numbers above the real ones
    while len(villages) < count:
        kec = KECAMATAN[len(villages) % len(KECAMATAN)]
        code = f"{kec}2{next(serial) % 1000:03d}"
        villages.append(Village(code, "lombok" if kec.startswith("52") else "java", rng.paretovariate(1.6)))
    return villages


def _nik(place: str, birth: dt.date, sex: str, serials: dict[tuple[str, str], int]) -> str:
    day = birth.day + (40 if sex == "female" else 0)
    date_part = f"{day:02d}{birth.month:02d}{birth.year % 100:02d}"
    key = (place, date_part)
    serials[key] = serials.get(key, 0) + 1
    return f"{place}{date_part}{serials[key]:04d}"


class _World:
    """Builds households and children."""

    def __init__(self, rng: random.Random, children: int, variation: Variation) -> None:
        self.rng = rng
        self.variation = variation
        self.target = children
        self.villages = _villages(rng, max(len(PILOT_VILLAGES), children // 500))
        self.village_cum = list(itertools.accumulate(v.weight for v in self.villages))
        self.nik_serials: dict[tuple[str, str], int] = {}
        self.kk_serial = itertools.count(rng.randrange(100, 900))
        self.households: list[Household] = []
        self.twins: list[tuple[str, str]] = []
        self.siblings: list[tuple[str, str]] = []
        self.child_count = 0

    def build(self) -> None:
        while self.child_count < self.target:
            self._household()

    def _kk(self, village: str) -> str:
        issued = dt.date(2010, 1, 1) + dt.timedelta(days=self.rng.randrange(5500))
        return f"{village[:6]}{issued:%d%m%y}{next(self.kk_serial) % 10000:04d}"

    def _household(self) -> None:
        rng = self.rng
        village = rng.choices(self.villages, cum_weights=self.village_cum)[0]
        region = village.region
        madurese = region == "java" and rng.random() < 0.4
        first_birth = dt.date(2007, 1, 1) + dt.timedelta(days=rng.randrange(14 * 365))
        mother_birth = dt.date(first_birth.year - rng.randint(18, 38), rng.randint(1, 12), rng.randint(1, 28))
        mother_name = self._mother_name()
        household = Household(
            household_id=f"h{len(self.households) + 1:06d}",
            region=region,
            village=village.code,
            kk=self._kk(village.code),
            mother_name=mother_name,
            mother_nik=_nik(village.code[:6], mother_birth, "female", self.nik_serials),
            father_given=_pick(rng, _POOLS[("father", "")]),
            noble=region == "lombok" and rng.random() < 0.12,
            madurese=madurese,
        )
        self._move(household)
        self._children(household, first_birth)
        self.households.append(household)

    def _mother_name(self) -> str:
        rng = self.rng
        given = _pick(rng, _POOLS[("mother", "")])
        lead = _weighted(rng, ((name, w / 100) for name, w in MOTHER_LEAD))
        if lead and lead != given:
            given = f"{lead} {given}"
        if rng.random() < 0.25:
            given = f"{given} {_pick(rng, _POOLS[('second', 'female')])}"
        if rng.random() < 0.08:  # registered in the old spelling
            given = _old_spelling(rng, given)
        return given

    def _move(self, household: Household) -> None:
        rng = self.rng
        draw = rng.random()
        if draw >= self.variation.moves:
            return
        household.old_village, household.old_kk = household.village, household.kk
        if draw < self.variation.moves * 0.6:  # moved: mostly within the kecamatan
            same_kec = [v.code for v in self.villages if v.code[:6] == household.village[:6]]
            same_region = [v.code for v in self.villages if v.region == household.region]
            pool = same_kec if rng.random() < 0.7 and len(same_kec) > 1 else same_region
            household.village = rng.choice([c for c in pool if c != household.old_village] or pool)
        household.kk = self._kk(household.village)

    def _children(self, household: Household, first_birth: dt.date) -> None:
        rng = self.rng
        count = int(_weighted(rng, (("1", 0.34), ("2", 0.34), ("3", 0.19), ("4", 0.09))) or "5")
        twin_at = rng.randrange(count) if rng.random() < self.variation.twins else -1
        births: list[dt.date] = []
        birth = first_birth
        for i in range(count):
            if i:
                birth = birth + dt.timedelta(days=rng.randint(365, 4 * 365))
            births.append(birth)
            if i == twin_at:
                births.append(birth)
        births = [b for b in births if b <= REFERENCE_DATE - dt.timedelta(days=4 * 365)] or births[:1]
        names_used: set[str] = set()
        twin_names = self._twin_names(household) if twin_at >= 0 and rng.random() < 0.35 else None
        for i, b in enumerate(births):
            twin_slot = twin_names[i - twin_at] if twin_names and twin_at <= i <= twin_at + 1 else None
            self._add_child(household, b, names_used, twin_slot)
        self._relate(household)

    def _twin_names(self, household: Household) -> list[tuple[str, str]]:
        a, b, sex_a, sex_b = self.rng.choice(TWIN_PAIRS)
        lead = ""
        if self.rng.random() < 0.5:
            lead = "Muhammad " if sex_a == "male" else "Nur "
        return [(f"{lead}{a}", sex_a), (f"{lead if sex_b == sex_a else ''}{b}", sex_b)]

    def _add_child(
        self, household: Household, birth: dt.date, used: set[str], twin_slot: tuple[str, str] | None
    ) -> None:
        rng = self.rng
        sex = twin_slot[1] if twin_slot else rng.choice(("male", "female"))
        base = twin_slot[0] if twin_slot else self._given_name(household, sex, used)
        used.add(base)
        prefix = ("Lalu " if sex == "male" else "Baiq ") if household.noble else ""
        patronymic = ""
        if rng.random() < 0.08:
            patronymic = f"{'bin' if sex == 'male' else 'binti'} {household.father_given}"
        registered = birth
        if rng.random() < 0.03:
            registered = birth + dt.timedelta(days=rng.choice((-400, -31, -3, 2, 30, 365)))
        place = (household.old_village or household.village)[:6]
        nik = "" if rng.random() < self.variation.no_nik else _nik(place, registered, sex, self.nik_serials)
        self.child_count += 1
        name = f"{prefix}{base}{' ' + patronymic if patronymic else ''}"
        child = Child(f"c{self.child_count:07d}", household.household_id, name, patronymic, sex, birth, registered, nik)
        household.children.append(child)

    def _given_name(self, household: Household, sex: str, used: set[str]) -> str:
        for _ in range(20):
            name = self._one_name(household, sex)
            if name not in used:
                return name
        return name

    def _one_name(self, household: Household, sex: str) -> str:
        rng = self.rng
        culture = "madura" if household.madurese else household.region
        given = _pick(rng, _POOLS[(culture, sex)])
        shape = rng.random()
        if shape < 0.22:
            return given
        leads = MALE_LEAD if sex == "male" else FEMALE_LEAD
        lead = _weighted(rng, ((n, w / 100) for n, w in leads))
        parts = [lead] if lead and lead != given else []
        parts.append(given)
        if shape > 0.55 or not lead:
            parts.append(_pick(rng, _POOLS[("second", sex)]))
        return " ".join(parts)

    def _relate(self, household: Household) -> None:
        kids = household.children
        for a, b in itertools.combinations(kids, 2):
            pair = (a.child_id, b.child_id)
            (self.twins if a.birth == b.birth else self.siblings).append(pair)


# --------------------------------------------------------------------------------------------------- corruption

_MUHAMMAD = ("Muhammad", "Muhamad", "Mohammad", "Mohamad", "Moh.", "M.", "Muh.", "Mochammad", "Muchammad", "Moch.")
_AHMAD = ("Ahmad", "Achmad", "Akhmad", "Ahmat")
_WHOLE_TOKEN = {
    "muhammad": _MUHAMMAD,
    "moh.": _MUHAMMAD,
    "ahmad": _AHMAD,
    "abdul": ("Abdul", "Abd.", "Abdoel"),
    "siti": ("Siti", "Sitti", "St."),
    "nur": ("Nur", "Noer", "Nurul"),
    "nurul": ("Nurul", "Nur", "Noerul"),
    "lalu": ("L.", "Lalu", ""),
    "baiq": ("Bq.", "Baiq", "B.", ""),
}
# Spelling rules: (pattern, replacement) on lower case text; each applies to one occurrence.
_OLD_SPELLING = (
    (r"u", "oe"),
    (r"j", "dj"),
    (r"c", "tj"),
    (r"y", "j"),
    (r"sy", "sj"),
    (r"kh", "ch"),
)
_OTHER_SPELLING = (
    (r"kh", "h"),
    (r"ch", "kh"),
    (r"h$", ""),
    (r"i$", "y"),
    (r"y$", "i"),
    (r"i$", "ie"),
    (r"q", "k"),
    (r"k$", "q"),
    (r"dh", "d"),
    (r"th", "t"),
    (r"^f", "p"),
    (r"^z", "j"),
    (r"ah$", "a"),
    (r"iy", "i"),
    (r"([lmnst])\1", r"\1"),
    (r"(?<=[aiu])([lmnst])(?=[aiu])", r"\1\1"),
)
_KEYBOARD = {
    "a": "sqz",
    "b": "vn",
    "c": "xv",
    "d": "sf",
    "e": "wr",
    "f": "dg",
    "g": "fh",
    "h": "gj",
    "i": "uo",
    "j": "hk",
    "k": "jl",
    "l": "k",
    "m": "n",
    "n": "bm",
    "o": "ip",
    "p": "o",
    "r": "et",
    "s": "ad",
    "t": "ry",
    "u": "yi",
    "w": "qe",
    "y": "tu",
    "z": "x",
}


def _case_like(template: str, text: str) -> str:
    return text.capitalize() if template[:1].isupper() else text


def _apply_rule(rng: random.Random, token: str, rules: Sequence[tuple[str, str]]) -> str | None:
    lower = token.lower()
    candidates = [(p, r) for p, r in rules if re.search(p, lower)]
    if not candidates:
        return None
    pattern, repl = rng.choice(candidates)
    matches = list(re.finditer(pattern, lower))
    m = rng.choice(matches)
    changed = lower[: m.start()] + m.expand(repl) + lower[m.end() :]
    return _case_like(token, changed) if changed else None


def _old_spelling(rng: random.Random, name: str) -> str:
    tokens = name.split()
    i = rng.randrange(len(tokens))
    tokens[i] = _apply_rule(rng, tokens[i], _OLD_SPELLING) or tokens[i]
    return " ".join(tokens)


def spelling_variant(rng: random.Random, name: str) -> str:
    """The same name in another accepted spelling (one token changed)."""
    tokens = name.split()
    if not tokens:
        return name
    order = list(range(len(tokens)))
    rng.shuffle(order)
    for i in order:
        whole = _WHOLE_TOKEN.get(tokens[i].lower())
        if whole:
            tokens[i] = rng.choice([w for w in whole if w != tokens[i]])
            return " ".join(t for t in tokens if t)
        rules = _OLD_SPELLING if rng.random() < 0.4 else _OTHER_SPELLING
        changed = _apply_rule(rng, tokens[i], rules)
        if changed and changed != tokens[i]:
            tokens[i] = changed
            return " ".join(tokens)
    return name


def typo(rng: random.Random, text: str) -> str:
    """One keyboard slip: substitution by a neighbouring key, deletion, doubling or transposition."""
    letters = [i for i, ch in enumerate(text) if ch.isalpha()]
    if len(letters) < 3:
        return text
    i = rng.choice(letters[1:])  # first letters are rarely mistyped
    ch = text[i]
    kind = rng.randrange(4)
    if kind == 0:
        near = _KEYBOARD.get(ch.lower(), "e")
        return text[:i] + rng.choice(near) + text[i + 1 :]
    if kind == 1:
        return text[:i] + text[i + 1 :]
    if kind == 2:
        return text[:i] + ch + text[i:]
    j = i - 1 if text[i - 1].isalpha() else i
    return text[:j] + text[j + 1] + text[j] + text[j + 2 :] if j + 1 < len(text) else text


def _short_form(rng: random.Random, token: str) -> str:
    """An abbreviated form of a very common name part (M., Moh., Abd., St.), else the token itself."""
    short = [form for form in _WHOLE_TOKEN.get(token.lower(), ()) if form.endswith(".")]
    return rng.choice(short) if short else token


def _drop_part(rng: random.Random, tokens: list[str]) -> list[str]:
    if len(tokens) < 2:
        return tokens
    i = rng.randrange(len(tokens))
    return tokens[:i] + tokens[i + 1 :]


def _mistype_digits(rng: random.Random, digits: str) -> str:
    out = list(digits)
    for i in rng.sample(range(len(out)), rng.choice((1, 1, 2))):
        out[i] = rng.choice([d for d in "0123456789" if d != out[i]])
    return "".join(out)


class _Observer:
    """Turns children into corrupted source records."""

    def __init__(self, rng: random.Random, world: _World) -> None:
        self.rng = rng
        self.world = world
        self.variation = world.variation
        self.records: list[dict[str, str]] = []
        self.truth_of: list[str] = []

    def observe_all(self) -> None:
        for household in self.world.households:
            for child in household.children:
                for source in self._sources():
                    self.records.append(self._record(source, household, child))
                    self.truth_of.append(child.child_id)

    def _sources(self) -> list[str]:
        rng = self.rng
        count = int(_weighted(rng, ((str(n), p) for n, p in RECORDS_PER_CHILD)) or "4")
        sources = rng.sample(SOURCES, count)
        if count > 1 and rng.random() < 0.05:
            sources[-1] = sources[0]  # the same source twice
        return sources

    def _record(self, source: str, household: Household, child: Child) -> dict[str, str]:
        rng = self.rng
        profile = PROFILES[source]
        old = bool(household.old_kk) and rng.random() < 0.4
        birth, precision = self._birth(profile, child, source)
        return {
            "record_id": "",
            "source": source,
            "full_name": self._name(profile, child),
            "sex": self._sex(child),
            "birth_date": birth,
            "birth_date_precision": precision,
            "nik": self._nik(profile, child, household),
            "kk_number": self._kk(profile, household.old_kk if old else household.kk),
            "mother_name": self._mother(profile, household),
            "village_code": self._village(profile, household.old_village if old else household.village),
        }

    def _name(self, profile: SourceProfile, child: Child) -> str:
        rng = self.rng
        name = child.name
        if child.patronymic and rng.random() >= profile.patronymic:
            name = name[: -len(child.patronymic)].strip()
        vary = self.variation
        if rng.random() < profile.variant * vary.variant:
            name = spelling_variant(rng, name)
        tokens = name.split()
        if vary.short_form and rng.random() < vary.short_form:
            tokens = [_short_form(rng, token) for token in tokens]
        if rng.random() < profile.drop * vary.drop:
            tokens = _drop_part(rng, tokens)
        if rng.random() < profile.reorder * vary.reorder and len(tokens) > 1:
            tokens = tokens[1:] + tokens[:1]
        name = " ".join(tokens)
        if rng.random() < profile.typo * vary.typo:
            name = typo(rng, name)
        if rng.random() < profile.honorific:
            name = f"An. {name}"
        return self._case(profile, name)

    def _case(self, profile: SourceProfile, text: str) -> str:
        draw = self.rng.random()
        if draw < profile.upper:
            return text.upper()
        if draw > 0.97:
            return text.lower()
        return text

    def _sex(self, child: Child) -> str:
        draw = self.rng.random()
        if draw < 0.03:
            return ""
        if draw < 0.038:
            return "female" if child.sex == "male" else "male"
        return child.sex

    def _birth(self, profile: SourceProfile, child: Child, source: str) -> tuple[str, str]:
        rng = self.rng
        precision = _weighted(rng, zip(("day", "month", "year"), profile.precision, strict=False))
        if precision is None:
            return "", ""
        date = child.registered_birth if source == "district_system" else child.birth
        year, month, day = date.year, date.month, date.day
        draw = rng.random()
        if draw < 0.05 and day <= 12 and day != month:
            month, day = day, month
        elif draw < 0.07:
            year += rng.choice((-1, 1))
        elif draw < 0.09:
            day = min(28, max(1, day + rng.choice((-10, -1, 1, 10))))
        if precision == "year":
            return f"{year:04d}", "year"
        if precision == "month":
            return f"{year:04d}-{month:02d}", "month"
        return f"{year:04d}-{month:02d}-{day:02d}", "day"

    def _nik(self, profile: SourceProfile, child: Child, household: Household) -> str:
        rng = self.rng
        if not child.nik or rng.random() >= profile.nik:
            return ""
        draw = rng.random()
        if draw < 0.04:
            return _mistype_digits(rng, child.nik)
        if draw < 0.065:
            return household.mother_nik
        if draw < 0.085:
            return rng.choice((*PLACEHOLDER_NIKS, household.village[:6] + "0" * 10))
        return child.nik

    def _kk(self, profile: SourceProfile, kk: str) -> str:
        rng = self.rng
        if rng.random() >= profile.kk:
            return ""
        return _mistype_digits(rng, kk) if rng.random() < 0.02 else kk

    def _mother(self, profile: SourceProfile, household: Household) -> str:
        rng = self.rng
        if rng.random() >= profile.mother:
            return ""
        name = household.mother_name
        tokens = [t for t in name.split() if t != "Hj."] or name.split()
        form = rng.random()
        if form < 0.25:
            name = rng.choice(tokens)
        elif form < 0.43:
            honorific = rng.choice(("Inaq", "Ibu", "Inaq")) if household.region == "lombok" else None
            honorific = honorific or rng.choice(("Ibu", "Bu", "Ny.", "Hj.", "Ibu"))
            name = f"{honorific} {' '.join(tokens[-2:]) if rng.random() < 0.5 else tokens[-1]}"
        elif form < 0.55:
            name = spelling_variant(rng, name)
        if rng.random() < 0.05:
            name = typo(rng, name)
        return self._case(profile, name)

    def _village(self, profile: SourceProfile, code: str) -> str:
        rng = self.rng
        draw = rng.random()
        if draw < 0.02:
            return ""
        if draw < 0.03:
            neighbours = [v.code for v in self.world.villages if v.code[:6] == code[:6] and v.code != code]
            code = rng.choice(neighbours) if neighbours else code
        if rng.random() < profile.dots:
            return f"{code[:2]}.{code[2:4]}.{code[4:6]}.{code[6:]}"
        return code


# --------------------------------------------------------------------------------------------------- API


def children_for_records(records: int) -> int:
    """How many children give about this many records."""
    return max(1, round(records / MEAN_RECORDS_PER_CHILD))


def generate(seed: int, children: int, variation: Variation | None = None) -> Dataset:
    """A reproducible data set of about `children` children (whole households, so a few more) and their records,
    in random order with opaque record ids; `variation` changes the settings (see `Variation`)."""
    rng = random.Random(seed)
    world = _World(rng, children, variation or Variation())
    world.build()
    observer = _Observer(rng, world)
    observer.observe_all()
    order = list(range(len(observer.records)))
    rng.shuffle(order)
    records: list[dict[str, str]] = []
    truth: dict[str, str] = {}
    for position, index in enumerate(order, start=1):
        record = observer.records[index]
        record["record_id"] = f"r{seed}-{position:07d}"
        records.append(record)
        truth[record["record_id"]] = observer.truth_of[index]
    household_of = {c.child_id: h.household_id for h in world.households for c in h.children}
    return Dataset(
        seed=seed,
        records=records,
        truth=truth,
        household_of=household_of,
        twins=world.twins,
        siblings=world.siblings,
        villages=[v.code for v in world.villages],
    )


def write_csv(records: Iterable[dict[str, str]], path: str | Path) -> None:
    """Write records in the input format of `simpul identity dedupe`."""
    with Path(path).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS)
        writer.writeheader()
        for record in records:
            writer.writerow({k: record.get(k, "") for k in FIELDS})
