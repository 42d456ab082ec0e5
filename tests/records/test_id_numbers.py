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
