"""Pure content checks: languages, translations, alt text."""

from __future__ import annotations

from contentcheck.rules import (
    Item,
    check_image_alt,
    check_languages,
    check_translations,
)


def item(
    source="a.md",
    slug="a",
    lang="it",
    translation=False,
    html="",
    *,
    status="published",
):
    return Item(source, slug, lang, translation, html, status)


def test_unknown_language_names_file_and_languages():
    [problem] = check_languages([item(lang="fr"), item(lang="en")], ["it", "en"])
    assert str(problem).startswith("a.md: unknown language 'Lang: fr'")
    assert "en, it" in problem.message


def test_translation_without_original():
    [problem] = check_translations([item("b.en.md", "b", "en", translation=True)])
    assert problem.source == "b.en.md"
    assert "no original with 'Slug: b'" in problem.message
    assert not check_translations(
        [item("b.it.md", "b"), item("b.en.md", "b", "en", translation=True)]
    )


def test_a_draft_translation_does_not_hold_back_its_original():
    assert not check_translations(
        [
            item("b.it.md", "b"),
            item("b.en.md", "b", "en", translation=True, status="draft"),
        ]
    )
    assert not check_translations(
        [
            item("b.it.md", "b", status="draft"),
            item("b.en.md", "b", "en", translation=True, status="draft"),
        ]
    )


def test_a_published_translation_of_a_draft_names_both_files():
    [problem] = check_translations(
        [
            item("b.it.md", "b", status="draft"),
            item("b.en.md", "b", "en", translation=True),
        ]
    )
    assert problem.source == "b.en.md"
    assert "b.it.md is a draft" in problem.message


def test_a_draft_translation_of_nothing_is_still_an_orphan():
    [problem] = check_translations(
        [item("b.en.md", "b", "en", translation=True, status="draft")]
    )
    assert "no original with 'Slug: b'" in problem.message


def test_a_draft_and_a_published_version_in_one_language_do_not_clash():
    assert not check_translations(
        [item("x.md", "b"), item("y.md", "b", status="draft")]
    )


def test_two_versions_in_one_language_clash():
    [problem] = check_translations([item("x.md", "b"), item("y.md", "b")])
    assert "y.md" in problem.message


def test_images_need_alt_text():
    problems = check_image_alt(
        [
            item(html='<p><img src="a.png" alt="Una moto"></p>'),
            item("b.md", html='<img src="b.png"><img src="c.png" alt="  ">'),
        ]
    )
    assert [(p.source, p.message.split()[1]) for p in problems] == [
        ("b.md", "b.png"),
        ("b.md", "c.png"),
    ]
