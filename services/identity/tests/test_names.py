"""Indonesian name normalisation: variants of one name meet in the same canonical tokens."""

from __future__ import annotations

import pytest

from identity.domain.names import parse_name


@pytest.mark.parametrize(
    ("variants", "expected"),
    [
        (
            ["Muhammad Rizki", "Moh. Rizki", "Muhamad Rizky", "M. Rizki", "MOHAMMAD RISKI", "Muh Rizkie"],
            ("muhamad", "rizki"),
        ),
        (["Achmad Fauzi", "Ahmad Fauzy", "Akhmad Fauzie", "Ahmat Fauzi"], None),
        (["Djoko", "Joko"], None),
        (["Soekarno", "Sukarno"], None),
        (["Tjahjono", "Cahyono"], None),
        (["Chairul Anwar", "Khairul Anwar", "Hairul Anwar"], None),
        (["Siti Fatimah", "Sitti Fatima", "St. Fatimah"], None),
    ],
)
def test_spelling_variants_share_canonical_tokens(variants: list[str], expected: tuple[str, ...] | None) -> None:
    canonical = {parse_name(variant).tokens for variant in variants}
    assert len(canonical) == 1, canonical
    if expected is not None:
        assert canonical == {expected}


def test_honorifics_and_titles_are_dropped() -> None:
    assert parse_name("Hj. Siti Aminah, S.Pd").tokens == parse_name("Siti Aminah").tokens
    assert parse_name("Ibu Sulastri").tokens == ("sulastri",)
    assert parse_name("An. Rizki").tokens == ("rizki",)


def test_patronym_is_split_off_after_bin_or_binti() -> None:
    son = parse_name("Ahmad bin Abdullah")
    assert son.tokens == ("ahmad",)
    assert son.patronym == parse_name("Abdullah").tokens
    assert parse_name("Siti Aminah binti Sulaiman").tokens == ("siti", "amina")


def test_sasak_prefixes_are_set_aside_and_hint_the_sex() -> None:
    lalu, baiq = parse_name("Lalu Muhammad Zainul"), parse_name("Baiq Nurul Aini")
    assert lalu.tokens == parse_name("Muhammad Zainul").tokens
    assert lalu.sex_hint == "male"
    assert baiq.tokens == parse_name("Nurul Aini").tokens
    assert baiq.sex_hint == "female"


def test_different_names_stay_different() -> None:
    assert parse_name("Hasan").tokens != parse_name("Husain").tokens
    assert parse_name("Putra").tokens != parse_name("Putri").tokens
