"""Commands for executives, editors and operators: `invoke --list` shows them.

Named as pelican-quickstart names them where they overlap (clean, build,
rebuild, regenerate, serve, livereload, preview).
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from datetime import datetime
from functools import cache
from pathlib import Path

from invoke import Exit, task

ROOT = Path(__file__).resolve().parent
# Our plugins are importable packages too (community, comments, sanitize).
if str(ROOT / "plugins") not in sys.path:
    sys.path.insert(0, str(ROOT / "plugins"))
SETTINGS_FILE_BASE = "pelicanconf.py"
# Pelican is imported by the tasks that build (it takes a while to import):
# `invoke --list` and the tasks that don't build start faster.


@cache
def settings() -> dict:
    """The development settings, as Pelican reads them."""
    from pelican.settings import DEFAULT_CONFIG, get_settings_from_file

    return {**DEFAULT_CONFIG, **get_settings_from_file(str(ROOT / SETTINGS_FILE_BASE))}


class _Config(dict):
    """Task settings; the two that come from pelicanconf.py are read when used."""

    def __missing__(self, key: str) -> str:
        if key == "content_path":
            return settings()["PATH"]
        if key == "deploy_path":
            return settings()["OUTPUT_PATH"]
        raise KeyError(key)


CONFIG = _Config(
    settings_base=SETTINGS_FILE_BASE,
    settings_publish="publishconf.py",
    preview_path="var/preview",
    host="localhost",
    port=8000,
)


def pelican_run(args: str) -> None:
    """Run Pelican in this process; warnings about content are fatal."""
    from pelican import main as pelican_main

    os.chdir(ROOT)
    pelican_main(shlex.split(f"{CONFIG['content_path']} --fatal warnings {args}"))


def index_search(output) -> None:
    """Build the search index of a built site (piazza/search.py), or stop."""
    from piazza.search import SearchIndexError, index_site

    try:
        index = index_site(Path(output))
    except SearchIndexError as exc:
        raise Exit(f"Search index: {exc}", code=1) from None
    pages = ", ".join(f"{i.lang} {i.pages}" for i in index.languages)
    print(
        f"Search index: {pages} pages, {index.bytes / 1024:,.0f} KiB "
        f"in {index.seconds:.2f} s ({index.bundle})"
    )


def _server(root, port, **options):
    """A site server on the task's port; a taken port is a one-line message."""
    from piazza.siteserver import ServerError, SiteServer, SiteState

    try:
        return SiteServer(SiteState(root), CONFIG["host"], int(port), **options)
    except ServerError as exc:
        raise Exit(f"Cannot serve: {exc}", code=1) from None


def _serve(server, what: str) -> None:
    from piazza.siteserver import serve_forever

    serve_forever(server, f"Serving {what} at {server.url}/ (Ctrl-C stops)")


PORT_HELP = {"port": "Port to serve on (default: 8000)"}


@task
def clean(c):
    """Remove the generated site (output/)."""
    if os.path.isdir(CONFIG["deploy_path"]):
        shutil.rmtree(CONFIG["deploy_path"])
        os.makedirs(CONFIG["deploy_path"])


@task
def build(c):
    """Build the site into output/ with the development settings.

    output/ is emptied first, so a deleted post leaves no page behind (the
    content cache lives in var/, not there). Then the search index.
    """
    pelican_run("-d -s {settings_base}".format(**CONFIG))
    index_search(CONFIG["deploy_path"])


@task
def rebuild(c):
    """Build from scratch: empty output/ and ignore the content cache."""
    pelican_run("-d --ignore-cache -s {settings_base}".format(**CONFIG))
    index_search(CONFIG["deploy_path"])


@task
def regenerate(c):
    """Rebuild whenever a file changes (no server)."""
    pelican_run("-r -s {settings_base}".format(**CONFIG))


@task(help=PORT_HELP)
def serve(c, port=CONFIG["port"]):
    """Serve output/ at http://localhost:8000/ (run `invoke build` first)."""
    if not os.path.isfile(os.path.join(CONFIG["deploy_path"], "index.html")):
        raise Exit("output/ has no site yet: run `invoke build serve`.", code=1)
    _serve(_server(Path(CONFIG["deploy_path"]).resolve(), port), "output/")


def _develop(port, isso_config=None, ideas_port=None) -> None:
    from piazza.devserver import run_dev
    from piazza.siteserver import ServerError

    try:
        run_dev(
            ROOT,
            ROOT / CONFIG["settings_base"],
            ROOT / CONFIG["content_path"],
            host=CONFIG["host"],
            port=int(port),
            isso_config=isso_config,
            ideas_port=int(ideas_port) if ideas_port else None,
        )
    except ServerError as exc:
        raise Exit(f"Cannot serve: {exc}", code=1) from None


@task(help=PORT_HELP)
def livereload(c, port=CONFIG["port"]):
    """Serve at http://localhost:8000/, rebuild and reload on every save.

    A content error is shown in the terminal and the page; the last good site
    stays served, and the next save builds again.
    """
    _develop(port)


@task(help={**PORT_HELP, "serve": "Serve it after the build (default: yes)"})
def preview(c, serve=True, port=CONFIG["port"]):
    """Build with the production settings, drafts included, and serve it locally."""
    from piazza.siteserver import isso_answers

    server = None
    if serve:  # before the build: a taken port is known at once
        isso = _preview_isso_url()
        server = _server(None, port, proxy_url=isso)
    url = f"http://{CONFIG['host']}:{port}"
    extra = (
        f"SITEURL='\"{url}\"' FEED_DOMAIN='\"{url}\"' "
        "DRAFT_SAVE_AS='\"bozze/{slug}/index.html\"' "
        "DRAFT_LANG_SAVE_AS='\"bozze/{lang}/{slug}/index.html\"' "
        # its own kept pages: a preview between two publishes leaves theirs
        "RENDER_CACHE_PATH='\"var/pelican-cache/render-preview\"'"
    )
    try:
        pelican_run(
            "-d -s {settings_publish} -o {preview_path} -e ".format(**CONFIG) + extra
        )
        index_search(CONFIG["preview_path"])
    except BaseException:
        if server:
            server.server_close()
        raise
    drafts = sorted(Path(CONFIG["preview_path"], "bozze").rglob("index.html"))
    for draft in drafts:
        rel = draft.relative_to(CONFIG["preview_path"]).parent.as_posix()
        print(f"draft: {url}/{rel}/")
    if server:
        server.state.publish(Path(CONFIG["preview_path"]).resolve())
        if isso_answers(isso):
            print(f"Comments: /comments/ goes to Isso at {isso}")
        else:
            print(
                f"Comments: Isso is not running at {isso}, so the comments won't "
                "load in this preview: run `invoke comments` in another terminal."
            )
        _serve(server, "the preview")


def _preview_isso_url() -> str:
    """Where preview's /comments/ goes: the ISSO_API_URL of publishconf.py."""
    from pelican.settings import get_settings_from_file

    return get_settings_from_file(str(ROOT / CONFIG["settings_publish"]))[
        "ISSO_API_URL"
    ]


@task(
    positional=[],
    help={
        "title": "The post's title (required; may not start with '-')",
        "lang": "Language of the post: it or en (default: it)",
        "translation-of": "Slug of the post this one translates",
        "category": "One of the site's categories (CATEGORY_LABELS); asked at a "
        "terminal; a translation takes the original's",
    },
)
def new_post(c, title=None, lang=None, translation_of=None, category=""):
    """Write a new draft post in content/posts/ (never overwrites)."""
    from contentcheck.rules import site_categories
    from piazza.newpost import USAGE, NewPostError, UsageError, check_title
    from piazza.newpost import new_post as write_post

    categories = site_categories(
        settings().get("CATEGORY_LABELS"), settings()["DEFAULT_LANG"]
    )
    try:
        check_title(title)
        if not category and not translation_of and categories and sys.stdin.isatty():
            category = _ask_category(categories)
        path = write_post(
            ROOT / CONFIG["content_path"] / "posts",
            title=title,
            lang=lang or settings()["DEFAULT_LANG"],
            languages=settings().get("LANGUAGES") or [settings()["DEFAULT_LANG"]],
            default_lang=settings()["DEFAULT_LANG"],
            author=settings()["AUTHOR"],
            now=datetime.now(),
            translation_of=translation_of,
            category=category,
            categories=categories,
        )
    except UsageError as exc:
        raise Exit(f"new-post: {exc}\n{USAGE}", code=2) from None
    except NewPostError as exc:
        raise Exit(f"new-post: {exc}", code=1) from None
    print(f"Wrote {path.relative_to(ROOT)} (status: draft)")


def _ask_category(categories: dict[str, str]) -> str:
    """Ask at the terminal which category a new post goes in."""
    names = sorted(categories.values())
    print("Category of the new post:")
    for number, name in enumerate(names, 1):
        print(f"  {number}. {name}")
    try:
        answer = input(f"Number or name (1-{len(names)}): ").strip()
    except EOFError:
        return ""
    if answer.isdigit() and 1 <= int(answer) <= len(names):
        return names[int(answer) - 1]
    return answer


def _publishing(name, action, *args, **kwargs):
    """Run the step of task ``name``; a PublishError is a message, not a traceback."""
    from piazza.errors import PublishError

    try:
        return action(*args, **kwargs)
    except PublishError as exc:
        raise Exit(f"{name}: {exc}", code=1) from None


@task(
    help={
        "target": "Where to publish: /path, user@host:path or s3://bucket/prefix "
        "(default: invoke.yaml piazza.target or $PIAZZA_TARGET)",
        "keep": "Releases to keep on the target (default: invoke.yaml piazza.keep, 5)",
        "force": "Make a new release even when nothing changed (on S3: also when "
        "it removes many of the live release's files)",
    }
)
def publish(c, target=None, keep=None, force=False):
    """Build for production, check, upload as a new release, switch it live."""
    from piazza import publish as publishing

    _publishing(
        "publish", publishing.publish, target, int(keep) if keep else None, force=force
    )


@task(help={"target": "The publish target", "to": "Release name to switch to"})
def rollback(c, target=None, to=None):
    """Switch the live site back to the previous release (or --to RELEASE)."""
    from piazza import publish as publishing

    _publishing("rollback", publishing.rollback, target, to)


@task(help={"target": "The publish target"})
def releases(c, target=None):
    """List the releases on the target, with their dates and commits."""
    from piazza import publish as publishing

    _publishing("releases", publishing.list_releases, target)


@task(help={"config": "The nginx config to update (default: deploy/nginx.conf)"})
def redirects(c, config="deploy/nginx.conf"):
    """Write the redirects of moved category and tag listings into the nginx config."""
    from piazza import redirects as moved

    path = ROOT / config
    try:
        changed = moved.write(path, settings())
    except moved.RedirectsError as exc:
        raise Exit(f"redirects: {exc}", code=1) from None
    print(f"{config}: {'updated' if changed else 'already up to date'}")


@task(
    help={
        "output": "The built site to check (default: output/)",
        "drafts": "Check draft pages too (a preview's output, var/preview)",
        "target": "Instead, check that the live release on s3://bucket/prefix is whole",
    }
)
def check(c, output=None, drafts=False, target=None):
    """Check a built site: links, assets, feeds, titles, canonical URLs, sizes."""
    from piazza import publish as publishing

    if target:
        from piazza import s3target

        if not s3target.is_s3(target):
            raise Exit("check: --target takes an s3://bucket/prefix target", code=1)
        _publishing("check", s3target.check_live, target)
        return
    _publishing(
        "check", publishing.check, output or CONFIG["deploy_path"], drafts=drafts
    )


# --- Community feeds -------------------------------------------------------


@task(
    help={
        "force": "Fetch feeds that are backing off or gone too",
        "only": "Fetch only this feed (its slug); repeatable",
        "settings": "Settings file (default: pelicanconf.py)",
    },
    iterable=["only"],
)
def aggregate(c, force=False, only=None, settings=None):
    """Fetch every community feed into var/community/ (the build reads only that)."""
    from piazza.community import aggregate as run

    _community(
        "aggregate",
        run,
        ROOT / (settings or CONFIG["settings_base"]),
        force,
        only or (),
    )


@task(
    help={
        "fix": "Write permanent redirects (301/308) into feeds.toml, after asking",
        "yes": "With --fix: write without asking (for scripts)",
        "settings": "Settings file (default: pelicanconf.py)",
    }
)
def feeds_check(c, fix=False, yes=False, settings=None):
    """Fetch every community feed; list dead and moved ones (exit 1 if any)."""
    from piazza.community import check

    fine = _community(
        "feeds-check", check, ROOT / (settings or CONFIG["settings_base"]), fix, yes
    )
    if not fine:
        raise Exit(code=1)


@task(help={"file": "An OPML file exported from a feed reader"})
def feeds_import(c, file):
    """Add the subscriptions of an OPML file to content/community/feeds.toml."""
    from piazza.community import import_opml

    _community("feeds-import", import_opml, ROOT / CONFIG["settings_base"], Path(file))


def _community(name, action, *args):
    """Run the step of task ``name``; a configuration error is a message, exit 1."""
    from community.errors import CommunityError

    try:
        return action(*args)
    except CommunityError as exc:
        raise Exit(f"{name}: {exc}", code=1) from None


# --- Comments (Isso) --------------------------------------------------------


def _comments(name, action, *args, **kwargs):
    """Run the step of task ``name``; a CommentsError is a message, not a traceback."""
    from piazza.comments import CommentsError

    try:
        return action(*args, **kwargs)
    except CommentsError as exc:
        raise Exit(f"{name}: {exc}", code=1) from None


@task(help={"config": "Isso configuration (default: deploy/isso.dev.cfg)"})
def comments(c, config="deploy/isso.dev.cfg"):
    """Run the Isso comment server for development on 127.0.0.1:8080."""
    from piazza import comments as isso

    _comments("comments", isso.serve, ROOT / config)


@task(
    help={
        **PORT_HELP,
        "config": "Isso configuration (default: deploy/isso.dev.cfg)",
        "ideas-port": "Port of the ideas service behind /idee-api/ (default: 8090)",
    }
)
def dev(c, port=CONFIG["port"], config="deploy/isso.dev.cfg", ideas_port=8090):
    """Run Isso, the ideas service and the livereloading site; Ctrl-C stops all."""
    from piazza import comments as isso

    try:
        _develop(port, ROOT / config, ideas_port)
    except isso.CommentsError as exc:
        raise Exit(f"dev: {exc}", code=1) from None


@task(
    help={
        "db": "The comment database (default: the one in deploy/isso.dev.cfg)",
        "dest": "Folder for the backup (default: var/backups/)",
    }
)
def comments_backup(c, db=None, dest="var/backups"):
    """Write a consistent, timestamped copy of the comment database."""
    from piazza import comments as isso

    path = _comments(
        "comments-backup", isso.backup, isso.database_path(db, ROOT), ROOT / dest
    )
    print(f"Backed up to {path}")


@task(
    help={
        "file": "The backup to restore",
        "db": "The comment database (default: the one in deploy/isso.dev.cfg)",
        "force": "Replace an existing database (backed up first, next to FILE)",
    }
)
def comments_restore(c, file, db=None, force=False):
    """Restore the comment database from a backup, after checking it."""
    from piazza import comments as isso

    target = isso.database_path(db, ROOT)
    previous = _comments(
        "comments-restore", isso.restore, Path(file), target, force=force
    )
    if previous:
        print(f"The database it replaced is backed up in {previous}")
    print(f"Restored {target} from {file}")


def _ids(values: list[str], option: str) -> list[int]:
    try:
        return [int(v.lstrip("#")) for v in values]
    except ValueError:
        raise Exit(
            f"comments-moderate: --{option} takes a comment's number, as the "
            f"queue shows it (got {', '.join(values)})",
            code=1,
        ) from None


@task(
    iterable=["approve", "delete", "ban"],
    help={
        "db": "The comment database (default: the one in deploy/isso.dev.cfg)",
        "approve": "Publish the comment with this number (repeatable)",
        "delete": "Delete the comment with this number (repeatable)",
        "ban": "Ban the writer of this comment (its e-mail, else its address "
        "range) and delete it (repeatable)",
        "unlock": "Forget the failed admin logins: lifts the login lockout",
    },
)
def comments_moderate(  # noqa: PLR0917 (invoke passes options by name)
    c, db=None, approve=None, delete=None, ban=None, unlock=False
):
    """Show the comments waiting for moderation; approve, delete or ban them."""
    from rich.console import Console

    from piazza import comments as isso
    from piazza import moderation

    console = Console()
    path = isso.database_path(db, ROOT)
    ids = {name: _ids(v or [], name) for name, v in (
        ("approve", approve), ("delete", delete), ("ban", ban))}  # fmt: skip
    try:
        with moderation.Queue(path) as queue:
            if unlock:
                console.print(f"Forgot {queue.unlock()} failed admin logins")
            console.print(moderation.queue_table(queue.pending()))
            if any(ids.values()):
                for done in queue.apply(**ids):
                    console.print(moderation.describe(done))
            elif sys.stdin.isatty() and queue.pending():
                moderation.ask(queue, console)
    except moderation.ModerationError as exc:
        raise Exit(f"comments-moderate: {exc}", code=1) from None


# --- The leader's report (piazza/report) -------------------------------------------


@task(
    help={
        "since": "Start of the period, e.g. 2026-03-01 (default: the last 7 days)",
        "out": "The report file (default: var/reports/report-<date>.html)",
        "mail": "Send it to REPORT_MAIL_TO by SMTP (REPORT_SMTP_* settings)",
        "lang": "Language of the report: it or en (default: it)",
        "db": "The comment database (default: the one in deploy/isso.dev.cfg)",
    }
)
def report(c, since=None, out=None, mail=False, lang="it", db=None):  # noqa: PLR0917
    """Write the leader's report (one HTML file); --mail sends it as the digest."""
    from piazza.report import ReportError
    from piazza.report.task import run_report

    try:
        run_report(ROOT, settings(), since=since, out=out, mail=mail, lang=lang, db=db)
    except ReportError as exc:
        raise Exit(f"report: {exc}", code=1) from None


@task
def test(c, k=""):
    """Run the whole test suite (pytest); -k selects tests by name."""
    selector = f" -k {shlex.quote(k)}" if k else ""
    c.run(f"{sys.executable} -m pytest{selector}", pty=sys.stdout.isatty())


@task
def lint(c, fix=False):
    """Check code style and lint with ruff (--fix to apply fixes)."""
    ruff = f"{sys.executable} -m ruff"
    if fix:
        c.run(f"{ruff} check --fix .")
        c.run(f"{ruff} format .")
    else:
        c.run(f"{ruff} check .")
        c.run(f"{ruff} format --check .")


@task
def bench_build(c, posts=2000, runs=3):
    """Benchmark the build against bare Pelican on a synthetic site."""
    c.run(f"{sys.executable} bench/bench_build.py --posts {posts} --runs {runs}")


@task
def bench_search(c, posts=2000, runs=3):
    """Benchmark the search: indexing against the build, bytes per query."""
    c.run(f"{sys.executable} bench/bench_search.py --posts {posts} --runs {runs}")


@task
def bench_preview(c, runs=3):
    """Benchmark the dev server: a saved change served, against a full rebuild."""
    c.run(f"{sys.executable} bench/bench_preview.py --posts 200 2000 --runs {runs}")


@task
def bench_aggregate(c, feeds=200, runs=3):
    """Benchmark `invoke aggregate` against a sequential feedparser loop."""
    c.run(f"{sys.executable} bench/bench_aggregate.py --feeds {feeds} --runs {runs}")


@task
def bench_comments(c, duration=10, connections=16):
    """Benchmark Isso's built-in server against gunicorn behind nginx (needs wrk)."""
    c.run(
        f"{sys.executable} bench/bench_comments.py "
        f"--duration {duration} --connections {connections}"
    )


# --- Ideas service (services/ideas) -----------------------------------------


def _ideas(action, *args, **kwargs):
    """Run an ideas step; an editor's or operator's mistake is a message."""
    from services.ideas.backup import IdeasBackupError
    from services.ideas.cli import EditorError

    try:
        return action(*args, **kwargs)
    except (EditorError, IdeasBackupError) as exc:
        raise Exit(f"ideas: {exc}", code=1) from None


@task(help={"port": "Port on 127.0.0.1 (default: 8090)"})
def ideas_server(c, port=8090):
    """Run the ideas service for development on 127.0.0.1:8090."""
    from services.ideas import cli

    _ideas(cli.serve, "127.0.0.1", int(port))


@task(
    help={
        "list": "Show the moderation queue and the ideas on the board",
        "accept": "Publish idea N from the queue (writes content/ideas/)",
        "decline": "Decline idea N (in the queue or on the board)",
        "status": "Move idea N to the status given by --to",
        "to": "The new status: under-review, planned, in-progress, done...",
        "merge": "Make idea N a duplicate of the one given by --into",
        "into": "The original idea a duplicate is merged into",
        "answer-it": "The company's answer, in Italian",
        "answer-en": "The company's answer, in English",
        "content": "Where accepted ideas are written (default: content/ideas)",
        "seed": "Put content/ideas/ with some supporters into an EMPTY database "
        "(the demo's numbers; a database with ideas is left alone)",
        "db": "The ideas database (default: $IDEAS_DB or var/ideas/ideas.db)",
    }
)
def ideas(  # noqa: PLR0917 - invoke: one parameter per option
    c,
    list=False,
    accept=None,
    decline=None,
    status=None,
    to=None,
    merge=None,
    into=None,
    answer_it="",
    answer_en="",
    content="content/ideas",
    db=None,
    seed=False,
):
    """Moderate ideas: --list, --accept N, --status N --to S, --merge N --into M..."""
    from services.ideas import cli, notify
    from services.ideas.backup import database_path

    path = database_path(db)
    folder = ROOT / content
    answers = {"answer_it": answer_it, "answer_en": answer_en}
    told = {}
    if decline or status or merge:
        # Supporters are e-mailed with the service's own settings (its
        # IDEAS_SECRET signs the unsubscribe links).
        told["notifier"], why_not = notify.from_environ(os.environ)
        if told["notifier"] is None:
            print(
                f"No e-mail to the supporters: {why_not}. Run with the "
                "service's environment (e.g. `set -a; . /etc/piazza/ideas.env`)"
                " or decide on the moderation page."
            )
    if seed:
        from services.ideas.seed import SeedError
        from services.ideas.seed import seed as plant

        try:
            ideas_in, votes = plant(path, folder)
        except SeedError as exc:
            raise Exit(f"ideas: {exc}", code=1) from None
        if ideas_in:
            print(f"Seeded {path}: {ideas_in} ideas, {votes} votes.")
        else:
            print(f"{path} has ideas already: not seeded.")
    elif accept:
        idea, written = _ideas(cli.accept, path, int(accept), folder, **answers)
        print(f"Idea {idea.id} is on the board.")
        _commit_hint([written], f"Accept idea {idea.id}")
    elif decline:
        _, files = _ideas(cli.decline, path, int(decline), folder, **answers, **told)
        print(f"Idea {decline} is declined; its supporters got their votes back.")
        _commit_hint(files, f"Decline idea {decline}")
    elif status:
        if not to:
            raise Exit("ideas: --status N needs --to STATUS", code=1)
        _, files = _ideas(
            cli.set_status, path, int(status), to, folder, **answers, **told
        )
        print(f"Idea {status} is {to}.")
        _commit_hint(files, f"Idea {status}: {to}")
    elif merge:
        if not into:
            raise Exit("ideas: --merge N needs --into M", code=1)
        _, files = _ideas(
            cli.merge, path, int(merge), int(into), folder, **answers, **told
        )
        print(f"Idea {merge} is merged into {into}; its supporters moved there.")
        _commit_hint(files, f"Merge idea {merge} into {into}")
    else:
        _ideas(cli.show, path)


def _commit_hint(files, message: str) -> None:
    """Tell the editor how to put the company's decision into git."""
    if not files:
        return
    shown = " ".join(
        shlex.quote(str(f.relative_to(ROOT) if f.is_relative_to(ROOT) else f))
        for f in files
    )
    print("Commit the decision, so the site publishes it:")
    print(f"  git add {shown} && git commit -m {shlex.quote(message)}")


@task(
    help={
        "poll": "The poll's id (its file's name in content/polls/)",
        "url": "The ideas service (default: IDEAS_API_URL in pelicanconf.py)",
    }
)
def poll_result(c, poll, url=None):
    """Write a closed poll's final numbers into content/polls/<poll>.toml."""
    from piazza.pollresult import record_result
    from polls.settings import PollsError

    try:
        path = record_result(settings(), poll, url=url)
    except PollsError as exc:
        raise Exit(f"poll-result: {exc}", code=1) from None
    print(f"Recorded the final result of {poll} in {path}.")
    _commit_hint([path], f"Record the result of the poll {poll}")


@task(
    help={
        "db": "The ideas database (default: $IDEAS_DB or var/ideas/ideas.db)",
        "dest": "Folder for the backup (default: var/backups/)",
    }
)
def ideas_backup(c, db=None, dest="var/backups"):
    """Write a consistent, timestamped copy of the ideas database."""
    from services.ideas import backup

    path = _ideas(backup.backup, backup.database_path(db), ROOT / dest)
    print(f"Backed up to {path}")


@task(
    help={
        "file": "The backup to restore",
        "db": "The ideas database (default: $IDEAS_DB or var/ideas/ideas.db)",
        "force": "Replace an existing database (backed up first, next to FILE)",
    }
)
def ideas_restore(c, file, db=None, force=False):
    """Restore the ideas database from a backup, after checking it."""
    from services.ideas import backup

    target = backup.database_path(db)
    previous = _ideas(backup.restore, Path(file), target, force=force)
    if previous:
        print(f"The database it replaced is backed up in {previous}")
    print(f"Restored {target} from {file}")


@task
def bench_ideas(c, duration=5, runs=3, votes=1000):
    """Benchmark the ideas service: dev server against gunicorn + nginx (needs wrk)."""
    c.run(
        f"{sys.executable} bench/bench_ideas.py "
        f"--duration {duration} --runs {runs} --votes {votes}"
    )


# --- Both services' databases -------------------------------------------------


@task(
    help={
        "dest": "Folder for the backups (default: var/backups/)",
        "comments-db": "The comment database (default: deploy/isso.dev.cfg's)",
        "ideas-db": "The ideas database (default: $IDEAS_DB or var/ideas/ideas.db)",
    }
)
def backup(c, dest="var/backups", comments_db=None, ideas_db=None):
    """Back up both services' databases (comments, ideas), consistently."""
    from piazza import comments as isso
    from services.ideas import backup as ideas_backup

    for name, action, path in (
        ("comments", lambda p: _comments("backup", isso.backup, p, ROOT / dest),
         isso.database_path(comments_db, ROOT)),
        ("ideas", lambda p: _ideas(ideas_backup.backup, p, ROOT / dest),
         ideas_backup.database_path(ideas_db)),
    ):  # fmt: skip
        if not path.exists():
            print(f"{name}: no database at {path}, nothing to back up")
            continue
        print(f"{name}: backed up to {action(path)}")


@task(
    help={
        "comments": "A comments backup to restore",
        "ideas": "An ideas backup to restore",
        "comments-db": "The comment database (default: deploy/isso.dev.cfg's)",
        "ideas-db": "The ideas database (default: $IDEAS_DB or var/ideas/ideas.db)",
        "force": "Replace existing databases (each backed up first)",
    }
)
def restore(  # noqa: PLR0917 - invoke: one parameter per option
    c, comments=None, ideas=None, comments_db=None, ideas_db=None, force=False
):
    """Restore the comments and/or ideas database from backups, after checking."""
    if not comments and not ideas:
        raise Exit(
            "restore: name a backup: --comments FILE and/or --ideas FILE", code=1
        )
    if comments:
        comments_restore(c, comments, db=comments_db, force=force)
    if ideas:
        ideas_restore(c, ideas, db=ideas_db, force=force)
