"""plugins/roster: content/staff.toml is read once, so the build (comments
plugin) and the comment server (piazza.staff) accept and refuse the same
files, with the same file, line and words."""

from __future__ import annotations

import pytest

from comments.errors import CommentsError
from comments.staff import load_staff as build_staff
from configuration import ConfigError
from piazza.staff import StaffError
from piazza.staff import load_staff as server_staff

ONE = '[[staff]]\nkey = "chiara"\nname = "Chiara"\nemails = ["c@a.example"]\n'


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        # Rules that were the server's only: now the build refuses them too.
        (ONE + '\n[[staff]]\nkey = "b"\nname = "B"\nemails = ["C+x@A.example"]\n',
         6, "C+x@A.example is already 'chiara''s address (at line 1)"),
        ('[[staff]]\nkey = "b"\nname = "B"\nemails = ["b at a"]\n',
         1, "'b at a' is not an e-mail address"),
        ('[[staff]]\nkey = "b"\nname = "..."\n', 1, "name must be"),
        ('[[staff]]\nkey = "a--b"\nname = "B"\n', 1, "key must be a short slug"),
        # The build's only: now the server refuses it too.
        (f'[[staff]]\nkey = "{"a" * 41}"\nname = "B"\n', 1, "at most 40 characters"),
        # Both, worded once.
        ('[[staff]]\nkey = "b"\nname = "B"\nmail = []\n', 1, "unknown key 'mail'"),
        ('x = 1\n[[staff]]\nkey = "b"\n', None, "unknown top-level key 'x'"),
    ],
)  # fmt: skip
def test_build_and_server_refuse_the_same_file_alike(tmp_path, text, line, words):
    path = tmp_path / "staff.toml"
    path.write_text(text, encoding="utf-8")
    failures: list[ConfigError] = []
    for load, error in ((build_staff, CommentsError), (server_staff, StaffError)):
        with pytest.raises(error) as failure:
            load(path)
        failures.append(failure.value)
    build, server = failures
    assert str(build) == str(server)
    where = f"{path}:{line}: " if line else f"{path}: "
    assert str(server).startswith(where), server
    assert words in str(server)
    assert build.line == server.line == line and build.path == server.path == path


def test_build_and_server_read_the_same_members(tmp_path):
    path = tmp_path / "staff.toml"
    path.write_text(
        ONE + '\n# second\n[[staff]]  # note\nkey = "luca-b"\nname = " Luca "\n'
        'authors = ["Luca Bianchi"]\n',
        encoding="utf-8",
    )
    members = build_staff(path)
    assert members == server_staff(path).members
    assert [(m.key, m.name, m.line) for m in members] == [
        ("chiara", "Chiara", 1),
        ("luca-b", "Luca", 7),
    ]


def test_unknown_positions_name_the_table_instead(tmp_path):
    # A header the line finder does not recognise: no line is guessed.
    path = tmp_path / "staff.toml"
    path.write_text(ONE + '\n[[ "staff" ]]\nkey = "B"\nname = "B"\n')
    with pytest.raises(StaffError) as failure:
        server_staff(path)
    assert str(failure.value).startswith(f"{path}: [[staff]] table #2: key must be")
    assert failure.value.line is None


def test_only_a_missing_file_is_read_differently(tmp_path):
    # The build runs without staff; the server refuses to start.
    assert build_staff(tmp_path / "staff.toml") == ()
    with pytest.raises(StaffError, match="PIAZZA_STAFF_FILE"):
        server_staff(tmp_path / "staff.toml")
