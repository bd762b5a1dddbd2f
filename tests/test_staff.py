"""piazza.staff: the staff file, and which names and addresses claim staff."""

from __future__ import annotations

import pytest
from conftest import ROOT

from piazza.staff import (
    StaffDirectory,
    StaffError,
    StaffMember,
    email_key,
    load_staff,
    parse_staff,
    skeleton,
)

CHIARA = StaffMember(
    "chiara",
    "Chiara Valsecchi",
    ("chiara.valsecchi@officineardesia.example",),
    ("Chiara Valsecchi",),
)
LUCA = StaffMember("luca", "Luca Bianchi", ("luca@officineardesia.example",))
STAFF = StaffDirectory([CHIARA, LUCA])


@pytest.mark.parametrize(
    "author",
    [
        "Chiara Valsecchi",
        "CHIARA VALSECCHI",
        "chiara  valsecchi ",
        "Chiàra Valsécchi",
        "Chiara\u00a0Valsecchi",  # no-break space
        "Chiara\u200bValsecchi",  # zero-width space
        "Valsecchi, Chiara",
        "Chiara-Valsecchi",
        "C.h.i.a.r.a Valsecchi",
        "Сhiara Valsecchi",  # Cyrillic С
        "Chiara Vаlsecchi",  # Cyrillic а
        "Chiara VaIsecchi",  # capital I for l
        "Ch1ara Va1secch1",
        "Ｃｈｉａｒａ Ｖａｌｓｅｃｃｈｉ",  # fullwidth
        "𝐂𝐡𝐢𝐚𝐫𝐚 𝐕𝐚𝐥𝐬𝐞𝐜𝐜𝐡𝐢",  # mathematical bold
        "Chiara Valsecchi (CEO)",
        "Chiara Valsecchi &amp; co",  # as Isso stores it, escaped
    ],
)
def test_names_that_claim_a_staff_member(author):
    assert STAFF.claimed_by(author, None) == [CHIARA]


@pytest.mark.parametrize(
    "author", ["Chiara", "Valsecchi", "Chiara Rossi", "Luca", "Ada Lovelace", ""]
)
def test_names_that_do_not(author):
    assert STAFF.claimed_by(author, None) == []


@pytest.mark.parametrize(
    "email",
    [
        "chiara.valsecchi@officineardesia.example",
        "Chiara.Valsecchi@OfficineArdesia.example",
        " chiara.valsecchi@officineardesia.example ",
        "chiara.valsecchi+blog@officineardesia.example",
    ],
)
def test_addresses_that_claim_a_staff_member(email):
    assert STAFF.claimed_by("Ada", email) == [CHIARA]
    assert STAFF.is_staff_email(email)


def test_other_addresses_do_not():
    for email in ("chiara@example.org", "valsecchi@officineardesia.example", None):
        assert STAFF.claimed_by("Ada", email) == []
        assert not STAFF.is_staff_email(email)


def test_a_name_and_an_address_may_claim_two_members():
    assert STAFF.claimed_by("Luca Bianchi", CHIARA.emails[0]) == [CHIARA, LUCA]


def test_a_moderator_is_known_by_address_first_then_by_name():
    assert STAFF.member_for("Luca Bianchi", CHIARA.emails[0]) == CHIARA
    assert STAFF.member_for("chiara valsecchi", "altro@example.org") == CHIARA
    assert STAFF.member_for("La redazione", None) is None
    both = StaffDirectory([CHIARA, StaffMember("cv", "Chiara Valsecchi")])
    assert both.member_for("Chiara Valsecchi", None) is None  # ambiguous


def test_skeleton_and_email_key():
    assert skeleton("Chiàra  VALSECCHI.") == skeleton("chiara valsecchi")
    assert skeleton("Ch!ara") == skeleton("Chiara")
    assert skeleton("Ma rn") == skeleton("mam")
    assert email_key("A+x@B.example") == "a@b.example"
    assert email_key("no-at-sign") == "no-at-sign"


def test_the_repository_staff_file_loads():
    staff = load_staff(ROOT / "content" / "staff.toml")
    assert [m.key for m in staff.members] == ["chiara"]
    chiara = staff.members[0]
    assert chiara.name == "Chiara Valsecchi"
    assert chiara.authors == ("Chiara Valsecchi",)


GOOD = '[[staff]]\nkey = "chiara"\nname = "Chiara"\nemails = ["c@a.example"]\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[staff]]\nkey = chiara\n", r"staff\.toml:2: not valid TOML"),
        ("[staff]\nkey = 'x'\n",
         r"staff\.toml: 'staff' must be a list of \[\[staff\]\] tables"),
        ("title = 'x'\n", r"staff\.toml: unknown top-level key 'title'"),
        (GOOD + '\n[[staff]]\nkey = "Bad Key"\nname = "B"\n', r"staff\.toml:6: key"),
        (GOOD + '\n[[staff]]\nkey = "b"\n', r"staff\.toml:6: name must be .*not None"),
        (GOOD + '\n[[staff]]\nkey = "chiara"\nname = "B"\n',
         r"staff\.toml:6: .*used twice"),
        (GOOD + '\n[[staff]]\nkey = "b"\nname = "B"\nemails = ["C@A.example"]\n',
         r"staff\.toml:6: C@A\.example is already 'chiara'"),
        ('[[staff]]\nkey = "b"\nname = "B"\nemails = "b@a.example"\n',
         r"staff\.toml:1: emails must be a list"),
        ('[[staff]]\nkey = "b"\nname = "B"\nemails = ["b at a"]\n',
         r"staff\.toml:1: .*not an e-mail address"),
        ('[[staff]]\nkey = "b"\nname = "B"\nauthors = [1]\n', "authors must be"),
        ('[[staff]]\nkey = "b"\nname = "B"\nmail = []\n',
         r"staff\.toml:1: unknown key 'mail'"),
    ],
)  # fmt: skip
def test_a_wrong_staff_file_is_refused_with_its_file_and_line(text, message):
    with pytest.raises(StaffError, match=message):
        parse_staff(text, "content/staff.toml")


def test_a_missing_staff_file_says_how_to_point_at_one(tmp_path):
    with pytest.raises(StaffError, match="PIAZZA_STAFF_FILE"):
        load_staff(tmp_path / "staff.toml")


def test_an_empty_staff_file_means_nobody():
    staff = parse_staff("# nobody yet\n", "staff.toml")
    assert not staff and staff.claimed_by("Chiara Valsecchi", "c@a.example") == []
