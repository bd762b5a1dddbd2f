"""content/staff.toml and the comments plugin's settings: mistakes an editor
can make are refused with the file, line or setting, and what to do."""

from __future__ import annotations

import pytest
from conftest import ROOT, free_port, run_pelican

from comments.errors import CommentsError
from comments.settings import DEFAULTS, CommentsSettings
from comments.staff import load_staff, parse_staff


def test_the_shipped_staff_file_names_the_president():
    (chiara,) = load_staff(ROOT / "content" / "staff.toml")
    assert chiara.key == "chiara"
    assert chiara.name == "Chiara Valsecchi"
    assert chiara.authors == ("Chiara Valsecchi",)
    assert chiara.emails == ("chiara.valsecchi@officineardesia.example",)
    assert chiara.line == 15


def test_a_missing_staff_file_means_no_staff(tmp_path):
    assert load_staff(tmp_path / "staff.toml") == ()


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ('[[staff]]\nkey = "chiara\n', 2, "not valid TOML"),
        ('# who\n\n[[staff]]\nname = "Chiara"\n', 3, "key must be a short slug"),
        ('[[staff]]\nkey = "Chiara V"\nname = "C"\n', 1, "key must be a short slug"),
        ('[[staff]]\nkey = "c"\nname = ""\n', 1, "name must be"),
        (
            '[[staff]]\nkey = "c"\nname = "C"\nauthors = "Chiara"\n',
            1,
            "authors must be a list",
        ),
        (
            '[[staff]]\nkey = "c"\nname = "C"\nemail = ["a@b.c"]\n',
            1,
            "unknown key 'email'",
        ),
        (
            '[[staff]]\nkey = "c"\nname = "C"\n\n[[staff]]\nkey = "c"\nname = "D"\n',
            5,
            "used twice",
        ),
    ],
)
def test_a_malformed_staff_file_names_file_and_line(tmp_path, text, line, words):
    path = tmp_path / "staff.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CommentsError) as failure:
        load_staff(path)
    assert str(failure.value).startswith(f"{path}:{line}: "), failure.value
    assert words in str(failure.value)
    assert failure.value.line == line


def test_staff_outside_tables_is_refused():
    with pytest.raises(CommentsError, match="unknown top-level key 'key'"):
        parse_staff('key = "chiara"\n', "staff.toml")


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("COMMENTS_LATEST", -1),
        ("COMMENTS_MOST_DISCUSSED", "5"),
        ("COMMENTS_TIMEOUT", 0),
        ("COMMENTS_MAX_BYTES", True),
        ("COMMENTS_WORKERS", 0),
        ("ISSO_URL", 8080),
        ("COMMENTS_STAFF_FILE", ""),
    ],
)
def test_an_unusable_setting_is_named(setting, value):
    with pytest.raises(CommentsError, match=f"setting {setting} must be"):
        CommentsSettings.from_pelican({setting: value})


def test_settings_default_and_resolve_the_staff_file(tmp_path):
    settings = CommentsSettings.from_pelican({"PATH": str(tmp_path)})
    assert not settings.enabled
    assert settings.staff_file == tmp_path / DEFAULTS["COMMENTS_STAFF_FILE"]
    on = CommentsSettings.from_pelican({"ISSO_URL": "/comments"})
    assert on.enabled and on.api_url == "/comments"


def test_a_malformed_staff_file_stops_the_build(tmp_path):
    staff = tmp_path / "staff.toml"
    staff.write_text('[[staff]]\nkey = "chiara"\nname = "Chiara"\nauthors = "x"\n')
    result = run_pelican(
        tmp_path / "output",
        overrides={
            "ISSO_API_URL": f"http://127.0.0.1:{free_port()}",
            "COMMENTS_STAFF_FILE": str(staff),
            "COMMUNITY_CACHE_DIR": str(tmp_path / "no-cache"),
        },
    )
    assert result.returncode != 0
    log = " ".join(result.log.split())
    assert f"{staff}:1:" in log and "authors must be a list" in log
    assert "Traceback" not in result.log
