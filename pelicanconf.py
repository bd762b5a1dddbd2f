"""Development settings for the Piazza demo site.

publishconf.py imports everything here and overrides what production needs.
Settings that belong to our plugins are documented in each plugin's
``settings.py`` (their defaults live there, in one dict).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
# Our plugins live in plugins/ and import each other (e.g. the shared sanitiser),
# so the folder goes on sys.path as well as on PLUGIN_PATHS.
if str(ROOT / "plugins") not in sys.path:
    sys.path.insert(0, str(ROOT / "plugins"))

AUTHOR = "Chiara Valsecchi"
SITENAME = "Officine Ardesia"
SITESUBTITLE = {
    "it": "Il blog della presidente, scritto con la nostra comunità",
    "en": "The president's blog, written with our community",
}
SITEURL = "http://localhost:8000"
RELATIVE_URLS = False

PATH = "content"
ARTICLE_PATHS = ["posts"]
PAGE_PATHS = ["pages"]
STATIC_PATHS = ["images", "extra"]
EXTRA_PATH_METADATA = {
    "extra/favicon.svg": {"path": "favicon.svg"},
}
IGNORE_FILES = [".#*"]
# `invoke livereload`/`dev` cache what they read here (not in the project root).
CACHE_PATH = "var/pelican-cache"

TIMEZONE = "Europe/Rome"
DEFAULT_LANG = "it"
# Languages the site publishes in; a post in any other `Lang` fails the build.
LANGUAGES = {
    "it": {"name": "Italiano", "locale": "it_IT", "feed_title": "Tutti gli articoli"},
    "en": {"name": "English", "locale": "en_GB", "feed_title": "All posts"},
}
DEFAULT_DATE_FORMAT = "%Y-%m-%d"
WITH_FUTURE_DATES = False  # future-dated posts stay drafts until their date
DEFAULT_PAGINATION = 10
# Topic listings hold more per page: fewer, fuller pages to browse (and build).
PAGINATED_TEMPLATES = {"index": None, "tag": 24, "category": 24, "author": 24}
PAGINATION_PATTERNS = (
    (1, "{url}", "{save_as}"),
    (2, "{base_name}/pagina/{number}/", "{base_name}/pagina/{number}/index.html"),
)
SUMMARY_MAX_LENGTH = 40

# URLs: clean, dated, one folder per language (the default language at the root).
ARTICLE_URL = "{date:%Y}/{slug}/"
ARTICLE_SAVE_AS = "{date:%Y}/{slug}/index.html"
ARTICLE_LANG_URL = "{lang}/{date:%Y}/{slug}/"
ARTICLE_LANG_SAVE_AS = "{lang}/{date:%Y}/{slug}/index.html"
PAGE_URL = "{slug}/"
PAGE_SAVE_AS = "{slug}/index.html"
PAGE_LANG_URL = "{lang}/{slug}/"
PAGE_LANG_SAVE_AS = "{lang}/{slug}/index.html"
DRAFT_URL = "bozze/{slug}/"
DRAFT_SAVE_AS = "bozze/{slug}/index.html"
DRAFT_LANG_URL = "bozze/{lang}/{slug}/"
DRAFT_LANG_SAVE_AS = "bozze/{lang}/{slug}/index.html"
CATEGORY_URL = "categoria/{slug}/"
CATEGORY_SAVE_AS = "categoria/{slug}/index.html"
CATEGORIES_SAVE_AS = "categorie/index.html"
CATEGORIES_URL = "categorie/"
TAG_URL = "tag/{slug}/"
TAG_SAVE_AS = "tag/{slug}/index.html"
TAGS_URL = "tag/"
TAGS_SAVE_AS = "tag/index.html"
AUTHOR_URL = "autore/{slug}/"
AUTHOR_SAVE_AS = "autore/{slug}/index.html"
AUTHORS_URL = "autori/"
AUTHORS_SAVE_AS = "autori/index.html"
ARCHIVES_URL = "archivio/"
ARCHIVES_SAVE_AS = "archivio/index.html"
YEAR_ARCHIVE_SAVE_AS = ""  # Pelican's own: off; plugins/multilang writes them
# One archive page per year and language (archivio/2026/, en/archivio/2026/);
# archivio/ lists the years and the latest posts, so no page grows with the
# age of the blog.
PIAZZA_YEAR_ARCHIVE_SAVE_AS = "archivio/{year}/index.html"
ARCHIVE_LATEST = 20  # posts listed on archivio/ under the years
MONTH_ARCHIVE_SAVE_AS = ""
INDEX_SAVE_AS = "index.html"
DIRECT_TEMPLATES = ["index", "categories", "tags", "authors", "archives", "404"]
TEMPLATE_PAGES: dict[str, str] = {}
# 404.html is a direct template; nginx serves it for missing paths.
# The search pages (plugins/search: SEARCH_URLS) are for readers, not crawlers.
SITEMAP_EXCLUDE = ["cerca/", "en/search/"]

# Feeds: Atom for everything, per category and per language; RSS for everything.
FEED_DOMAIN = SITEURL
FEED_ALL_ATOM = "feeds/all.atom.xml"
FEED_ALL_RSS = "feeds/all.rss.xml"
CATEGORY_FEED_ATOM = "feeds/categoria-{slug}.atom.xml"
TRANSLATION_FEED_ATOM = "feeds/all-{lang}.atom.xml"
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
TAG_FEED_ATOM = None
FEED_MAX_ITEMS = 30
RSS_FEED_SUMMARY_ONLY = True
# JSON Feed 1.1, one per language (plugins/channels).
JSON_FEED = "feeds/{lang}.json"

# Theme and templates.
THEME = "theme"
THEME_STATIC_DIR = "theme"
THEME_STATIC_PATHS = ["static"]
JINJA_ENVIRONMENT = {
    "extensions": ["jinja2.ext.i18n"],
    "trim_blocks": True,
    "lstrip_blocks": True,
}
# The site's categories, by slug, with their name in each language: sources
# write the Italian name (`Category: Comunità`); `invoke new-post` offers these,
# and a post without a category, or with one not listed here, fails the build.
CATEGORY_LABELS = {
    "azienda": {"it": "Azienda", "en": "Company"},
    "moto": {"it": "Moto", "en": "Motorcycles"},
    "comunita": {"it": "Comunità", "en": "Community"},
    "corse": {"it": "Corse", "en": "Racing"},
}
# Tag names per language, by slug (sources write the Italian tag); a tag
# without an entry (a name: "sebino 800", "ardesisti") reads the same everywhere.
TAG_LABELS = {
    "anniversario": {"en": "anniversary"},
    "elettrico": {"en": "electric"},
    "fabbrica": {"en": "factory"},
    "garanzia": {"en": "warranty"},
    "idee": {"en": "ideas"},
    "lettere": {"en": "letters"},
    "listino": {"en": "price list"},
    "pista": {"en": "track"},
    "prototipo": {"en": "prototype"},
    "raduno": {"en": "gathering"},
    "sostenibilita": {"en": "sustainability"},
    "storia": {"en": "history"},
}
# Category and tag listings in other languages, in that language's words and
# with the label's slug (plugins/multilang/listings.py): /en/category/company/.
# deploy/nginx.conf redirects their old addresses (`invoke redirects`).
CATEGORY_LANG_URL = "{lang}/category/{slug}/"
CATEGORY_LANG_SAVE_AS = "{lang}/category/{slug}/index.html"
TAG_LANG_URL = "{lang}/tag/{slug}/"
TAG_LANG_SAVE_AS = "{lang}/tag/{slug}/index.html"
# No category from the folder name ("posts") or a default: every post says it.
USE_FOLDER_AS_CATEGORY = False
DEFAULT_CATEGORY = ""
MENU_PAGES = ["chi-siamo", "regole-della-comunita", "privacy"]
DISPLAY_PAGES_ON_MENU = False
DISPLAY_CATEGORIES_ON_MENU = False
TWITTER_SITE = "@officineardesia"
SOCIAL_IMAGE = "theme/img/social-card.png"  # 1200x630

PLUGIN_PATHS = ["plugins"]
PLUGINS = [
    "multilang",
    # covers (content.cover) and responsive images; before socialcards
    "pictures",
    "contentcheck",
    "fragments",
    "assets",
    "community",
    "comments",
    # after multilang and comments (languages, comments_enabled), before
    # commentthreads (lists its idea pages' threads) and channels (sitemap)
    "ideaboard",
    "commentthreads",  # after comments: lists the threads it marked
    # The public record of what was done with the ideas (IDEAS_API_URL's
    # snapshot; accountability/settings.py). Before channels: the sitemap
    # lists the pages written before it.
    "accountability",
    "channels",
    "polls",
    "search",  # the search pages and the template marks; the index: piazza/search.py
]

# Comments (plugins/comments): Isso, run by `invoke comments` / `invoke dev`
# on 127.0.0.1:8080 with deploy/isso.dev.cfg. The build reads the published
# comments from it and renders them into the pages; the widget loads live.
ISSO_URL = "http://localhost:8080"
ISSO_API_URL = "http://127.0.0.1:8080"
# Who answers readers for the company is in content/staff.toml
# (COMMENTS_STAFF_FILE): their comments carry a badge only when the comment
# server proved they wrote them, never because of a name or an e-mail.

# The ideas board (plugins/ideaboard, settings in its settings.py) and polls
# in posts (plugins/polls): the accepted ideas in content/ideas/, the numbers
# from the ideas service run by `invoke ideas-server` / `invoke dev` on
# 127.0.0.1:8090 (IDEAS_API_URL; a service that is down: a warning and the
# last known numbers, var/ideas/). Readers' browsers reach the service on the
# same origin at IDEAS_PUBLIC_URL (nginx proxies /idee-api/ to it).
IDEAS_API_URL = "http://127.0.0.1:8090"
IDEAS_PUBLIC_URL = "/idee-api"

# Markdown Extra (tables, footnotes, attribute lists, raw HTML in blocks).
# No smarty/toc: write « » and ’ directly; each costs ~15% of the build.
MARKDOWN = {
    "extension_configs": {
        "markdown.extensions.extra": {},
        "markdown.extensions.meta": {},
    },
    "output_format": "html5",
}

# Caching makes `invoke regenerate` and the livereload server fast.
CACHE_CONTENT = False
LOAD_CONTENT_CACHE = False
