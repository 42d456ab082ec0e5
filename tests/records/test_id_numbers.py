"""GB 11643 ID numbers: the checksum, what they encode, and the one masked form."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from records.idnumbers import make_id_number, mask_id_number, parse_id_number


@pytest.mark.parametrize(
    ("number", "birth_date", "sex"),
    [
        ("11010519491231002X", dt.date(1949, 12, 31), "female"),  # the standard's own example
        ("440524188001010014", dt.date(1880, 1, 1), "male"),  # GB 11643-1999's second example
        ("330203201906010078", dt.date(2019, 6, 1), "male"),
    ],
)
def test_good_id_numbers_are_accepted_with_what_they_encode(number, birth_date, sex):
    facts = parse_id_number(number)

    assert facts.birth_date == birth_date
    assert facts.sex == sex


def test_an_x_check_digit_is_accepted_in_either_case_and_stored_upper_case():
    assert parse_id_number("11010519491231002x").number == "11010519491231002X"
    assert parse_id_number(" 110105 19491231 002X ").number == "11010519491231002X"


def test_a_wrong_check_digit_is_refused_with_a_message_about_the_last_character():
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        parse_id_number("110105194912310021")

    assert refused.value.code == "id_checksum"
    assert "last character" in refused.value.messages[0]


def test_an_x_where_a_digit_belongs_is_refused():
    with pytest.raises(ValidationError) as refused:
        parse_id_number("44052418800101001X")

    assert refused.value.code == "id_checksum"


@pytest.mark.parametrize(
    "number", ["33020320190231001", "3302032019060100751", "3302032019X601007X"]
)
def test_a_number_of_the_wrong_shape_is_refused(number):
    with pytest.raises(ValidationError) as refused:
        parse_id_number(number)

    assert refused.value.code == "id_format"


def test_a_number_encoding_an_impossible_birth_date_is_refused():
    first17 = "33020320190231007"  # 31 February
    from records.idnumbers import check_character

    with pytest.raises(ValidationError) as refused:
        parse_id_number(first17 + check_character(first17))

    assert refused.value.code == "id_birth_date"


def _with_region(region: str) -> str:
    from records.idnumbers import check_character

    first17 = region + "20190601007"
    return first17 + check_character(first17)


@pytest.mark.parametrize("region", ["000000", "100000", "160101", "240101", "990101", "720101"])
def test_a_number_whose_province_code_does_not_exist_is_refused(region):
    """GB 11643's first two digits are a province (GB/T 2260): 000000 is nowhere."""
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        parse_id_number(_with_region(region))

    assert refused.value.code == "id_region"
    assert "region" in refused.value.messages[0]
    with translation.override("zh-hans"):
        with pytest.raises(ValidationError) as refused:
            parse_id_number(_with_region(region))
        assert "地区代码" in refused.value.messages[0]


@pytest.mark.parametrize(
    "province",
    [11, 15, 21, 23, 31, 37, 41, 46, 50, 54, 61, 65, 71, 81, 82, 83],
)
def test_every_province_code_of_the_standard_is_accepted(province):
    assert parse_id_number(_with_region(f"{province}0101")).birth_date == dt.date(2019, 6, 1)


def test_numbers_are_only_made_for_a_province_that_exists():
    with pytest.raises(ValueError, match="province"):
        make_id_number(birth_date=dt.date(2019, 6, 1), sex="male", region="000000")


def test_the_demo_families_and_the_factories_hold_valid_numbers(db):
    from records.demo import DEMO_FAMILIES
    from tests.factories import PatientFactory

    for people in DEMO_FAMILIES.values():
        for index, person in enumerate(people):
            number = make_id_number(
                birth_date=person.birth_date, sex=person.sex, region=person.region, sequence=index
            )
            assert parse_id_number(number).birth_date == person.birth_date
    for patient in PatientFactory.build_batch(5):
        assert parse_id_number(patient.id_number).sex == patient.sex


@settings(derandomize=True, deadline=None, max_examples=200)
@given(
    birth_date=st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2026, 12, 31)),
    sex=st.sampled_from(["male", "female"]),
    sequence=st.integers(min_value=0, max_value=499),
    position=st.integers(min_value=0, max_value=16),
    delta=st.integers(min_value=1, max_value=9),
)
def test_generated_numbers_round_trip_and_any_single_digit_typo_is_caught(
    birth_date, sex, sequence, position, delta
):
    number = make_id_number(birth_date=birth_date, sex=sex, sequence=sequence)
    facts = parse_id_number(number)
    assert (facts.birth_date, facts.sex) == (birth_date, sex)

    typo = number[:position] + str((int(number[position]) + delta) % 10) + number[position + 1 :]
    with pytest.raises(ValidationError):
        parse_id_number(typo)


def test_masking_keeps_the_region_and_the_last_four_only():
    assert mask_id_number("330203201906010078") == "330203********0078"
    assert mask_id_number("11010519491231002x") == "110105********002X"


def test_masking_something_that_is_not_an_id_number_still_hides_it():
    assert mask_id_number("12345678") == "******78"
    assert mask_id_number("") == ""
