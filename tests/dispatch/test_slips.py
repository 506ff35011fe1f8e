"""Slips: the ESC/POS bytes render_slip produces, read back with decode_slip."""
from datetime import datetime
from decimal import Decimal

import pytest

from app.dispatch.slips import SETTINGS, Slip, SlipLine, check_settings, render_slip
from tests.dispatch_fakes import decode_slip

AT = datetime(2024, 1, 15, 13, 5)  # naive UTC, winter: Amsterdam is UTC+1


def make_slip(**overrides) -> Slip:
    fields = dict(number=123, station="Grill", label="Table 7", at=AT,
                  lines=(SlipLine(Decimal("2.000"), "Burger", note="no onions", course=2),
                         SlipLine(Decimal("0.5"), "Fries")),
                  note=None)
    fields.update(overrides)
    return Slip(**fields)


def printed(slip: Slip | None = None, **settings):
    return decode_slip(render_slip(slip or make_slip(), settings))


def test_a_normal_slip_lists_header_items_and_cuts():
    slip = printed()
    assert slip.lines[:5] == ["Grill", "#123", "Table 7", "2024-01-15 13:05 UTC", "-" * 42]
    assert slip.lines[5:] == ["2 x Burger", "  course 2", "  note: no onions", "0.5 x Fries"]
    assert slip.large_lines == ["#123"]
    assert "Grill" in slip.bold_lines
    assert slip.cut and slip.beeps == 0
    assert "REPRINT" not in slip.text and "CANCELLATION" not in slip.text


def test_quantities_lose_trailing_zeros_but_not_their_size():
    lines = (SlipLine(Decimal("10"), "Tea"), SlipLine(Decimal("1.250"), "Cheese"),
             SlipLine(Decimal("3.0"), "Beer"))
    assert printed(make_slip(lines=lines)).lines[-3:] == [
        "10 x Tea", "1.25 x Cheese", "3 x Beer"]


def test_no_label_no_label_line_and_an_order_note_at_the_end():
    slip = printed(make_slip(label=None, note="Allergy: nuts"))
    assert slip.lines[:3] == ["Grill", "#123", "2024-01-15 13:05 UTC"]
    assert slip.lines[-1] == "Order note: Allergy: nuts"
    assert slip.lines[-1] in slip.bold_lines


def test_a_void_slip_cannot_be_taken_for_an_order():
    slip = printed(make_slip(is_void=True))
    assert slip.lines[0] == "VOID"
    assert "VOID" in slip.large_lines and "VOID" in slip.inverted_lines
    assert slip.inverted_lines.count("*** CANCELLATION ***") == 2  # at the top and the end
    assert "DO NOT MAKE" in slip.inverted_lines
    assert "*** CANCELLATION ***" in slip.bold_lines
    assert "-2 x Burger" in slip.lines and "-0.5 x Fries" in slip.lines
    assert slip.lines[-1] == "*** CANCELLATION ***"


def test_a_reprint_says_so_first():
    slip = printed(make_slip(is_reprint=True))
    assert slip.lines[0] == "REPRINT"
    assert "REPRINT" in slip.large_lines and "REPRINT" in slip.bold_lines
    assert "2 x Burger" in slip.lines


def test_a_voided_reprint_shows_both():
    slip = printed(make_slip(is_reprint=True, is_void=True))
    assert slip.lines[:2] == ["REPRINT", "VOID"]


def test_beep_sounds_the_buzzer_before_the_cut():
    assert printed(beep="off").beeps == 0
    slip = printed(beep="ON")
    assert slip.beeps > 0
    assert slip.commands[-3:] == ["buzzer", "feed", "cut"]


def test_large_number_off_prints_the_number_at_normal_size():
    slip = printed(largeNumber="no")
    assert "#123" in slip.lines and "#123" in slip.bold_lines
    assert slip.large_lines == []


def test_double_size_enlarges_the_items_and_wraps_them_at_half_width():
    long_name = "Burger with cheddar and bacon"
    slip = printed(make_slip(lines=(SlipLine(Decimal(1), long_name, note="well done"),)),
                   doubleSize="true", width="32")
    items = slip.lines[slip.lines.index("-" * 32) + 1:]
    assert items == ["1 x Burger with", "    cheddar and", "    bacon", "  note: well", "    done"]
    assert items == slip.large_lines[1:]  # the number is large too
    assert all(len(line) <= 16 for line in items)


def test_cut_off_feeds_without_cutting():
    slip = printed(cut="0")
    assert not slip.cut
    assert slip.commands[-1] == "feed"


@pytest.mark.parametrize("width", ["24", "42", "64"])
def test_width_wraps_long_names_under_the_name(width):
    name = "Slow-cooked pulled pork sandwich with coleslaw, pickles and smoky barbecue sauce"
    note = "please cut in halves and put the sauce on the side"
    slip = printed(make_slip(lines=(SlipLine(Decimal(12), name, note=note),)), width=width)
    assert slip.lines[4] == "-" * int(width)
    items = slip.lines[5:]
    assert all(len(line) <= int(width) for line in items)
    assert items[0].startswith("12 x Slow-cooked")
    first_note = next(i for i, line in enumerate(items) if line.startswith("  note: "))
    name_lines, note_lines = items[:first_note], items[first_note:]
    assert len(name_lines) > 1 and all(line.startswith("     ") for line in name_lines[1:])
    assert " ".join(line.strip() for line in name_lines) == f"12 x {name}"
    assert all(line.startswith("    ") for line in note_lines[1:])
    assert " ".join(line.strip() for line in note_lines) == f"note: {note}"


def test_the_time_is_printed_in_the_station_time_zone():
    assert "2024-01-15 14:05 CET" in printed(timezone="Europe/Amsterdam").lines
    summer = make_slip(at=datetime(2024, 7, 1, 22, 30))
    assert "2024-07-02 00:30 CEST" in printed(summer, timezone="Europe/Amsterdam").lines
    assert "2024-07-01 18:30 EDT" in printed(summer, timezone="America/New_York").lines


def test_non_ascii_names_are_encoded_for_the_printer():
    lines = (SlipLine(Decimal(1), "Crème brûlée"), SlipLine(Decimal(2), "Bière"),
             SlipLine(Decimal(1), "Smørrebrød"), SlipLine(Decimal(1), "Żurek"),
             SlipLine(Decimal(1), "Борщ"))
    slip = printed(make_slip(lines=lines, station="Café", label="Señor Müller"))
    assert slip.lines[-5:] == [
        "1 x Crème brûlée", "2 x Bière", "1 x Smørrebrød", "1 x Żurek", "1 x Борщ"]
    assert slip.lines[:3] == ["Café", "#123", "Señor Müller"]


def test_characters_no_code_page_holds_become_question_marks():
    lines = (SlipLine(Decimal(1), "Burger 🍔"), SlipLine(Decimal(1), "Ramen 拉麺 bowl"))
    assert printed(make_slip(lines=lines)).lines[-2:] == ["1 x Burger ?", "1 x Ramen ?? bowl"]


def test_control_characters_from_customers_never_reach_the_printer_as_commands():
    sneaky = "Burger\x1bp\x00\x19\xfa\x1dV\x00\r\tplease"  # cash drawer kick, cut
    slip = printed(make_slip(label="Bob\x1b@", lines=(SlipLine(Decimal(1), sneaky),)))
    assert slip.commands.count("cut") == 1  # decode_slip also rejects any unknown command
    assert "Bob @" in slip.lines
    assert slip.lines[-1] == "1 x Burger p ú V please"


def test_a_multi_line_note_keeps_its_lines():
    slip = printed(make_slip(lines=(SlipLine(Decimal(1), "Pizza", note="no olives\nextra hot"),)))
    assert slip.lines[-2:] == ["  note: no olives", "    extra hot"]


def test_unknown_settings_are_ignored():
    assert check_settings({"printerModel": "TM-T20", "retries": "x"}) == []
    assert printed(printerModel="TM-T20").lines == printed().lines


def test_every_setting_has_a_valid_default():
    defaults = {name: setting.default for name, setting in SETTINGS.items()}
    assert set(defaults) == {"beep", "largeNumber", "doubleSize", "cut", "width", "timezone"}
    assert check_settings(defaults) == []
    assert render_slip(make_slip(), defaults) == render_slip(make_slip(), {})
    assert all(setting.help for setting in SETTINGS.values())


@pytest.mark.parametrize("value", ["true", "False", "ON", "off", "Yes", "no", "1", "0", " on "])
def test_booleans_accept_the_usual_spellings(value):
    assert check_settings({"beep": value, "cut": value}) == []


@pytest.mark.parametrize("settings, named", [
    ({"beep": "maybe"}, "beep"),
    ({"largeNumber": ""}, "largeNumber"),
    ({"doubleSize": "2"}, "doubleSize"),
    ({"cut": "sometimes"}, "cut"),
    ({"width": "23"}, "width"),
    ({"width": "65"}, "width"),
    ({"width": "forty"}, "width"),
    ({"width": "42.5"}, "width"),
    ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
    ({"timezone": "../../etc/passwd"}, "timezone"),
    ({"timezone": ""}, "timezone"),
])
def test_bad_values_of_known_settings_are_errors(settings, named):
    [error] = check_settings(settings)
    assert error.startswith(named + " ")
    with pytest.raises(ValueError, match=named):
        render_slip(make_slip(), settings)


def test_all_errors_are_reported_together():
    errors = check_settings({"beep": "x", "width": "10", "timezone": "Nowhere"})
    assert len(errors) == 3


def test_decode_slip_rejects_commands_it_does_not_know():
    data = render_slip(make_slip(), {})
    with pytest.raises(AssertionError, match="unknown"):
        decode_slip(data + b"\x1bp\x00\x19\xfa")  # cash drawer kick
    with pytest.raises(AssertionError, match="unknown"):
        decode_slip(b"\x1b@\x07")
    with pytest.raises(AssertionError, match="truncated"):
        decode_slip(b"\x1b@\x1d!")


def test_a_rush_slip_says_rush_large_and_inverted_and_names_the_order_type():
    slip = printed(make_slip(is_rush=True, order_type="Takeout"))
    assert slip.lines[:4] == ["RUSH", "Grill", "#123", "TAKEOUT"]
    assert "RUSH" in slip.large_lines and "RUSH" in slip.inverted_lines
    assert "TAKEOUT" in slip.bold_lines
    plain = printed()
    assert "RUSH" not in plain.text and "TAKEOUT" not in plain.text


def test_modifiers_print_under_their_item_and_a_guest_allergy_prints_inverted_in_words():
    lines = (SlipLine(Decimal(2), "Burger", note="well done",
                      modifiers=("Bacon", "2 x Extra cheese"), allergies=("Milk", "Sesame"),
                      contains=("Milk",)),
             SlipLine(Decimal(1), "Fries"))
    slip = printed(make_slip(lines=lines))
    assert slip.lines[5:] == ["2 x Burger", "  + Bacon", "  + 2 x Extra cheese",
                              "  note: well done", "ALLERGY: MILK, SESAME", "  contains Milk",
                              "1 x Fries"]
    assert "ALLERGY: MILK, SESAME" in slip.inverted_lines
    assert "ALLERGY" not in printed().text
