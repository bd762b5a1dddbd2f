"""Production settings: everything in pelicanconf.py, with these overrides."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pelicanconf import *  # noqa: F403

SITEURL = os.environ.get("PIAZZA_SITEURL", "https://www.officineardesia.example")
FEED_DOMAIN = SITEURL
RELATIVE_URLS = False
DELETE_OUTPUT_DIRECTORY = True

# Comments: nginx proxies /comments/ to Isso on loopback (deploy/nginx.conf);
# the build reads the published comments from Isso directly.
ISSO_URL = "/comments"
ISSO_API_URL = os.environ.get("PIAZZA_ISSO_API_URL", "http://127.0.0.1:8080")

# Ideas: nginx proxies /idee-api/ to the ideas service on loopback; the build
# reads its snapshot directly (the last known one while it is down).
IDEAS_API_URL = os.environ.get("PIAZZA_IDEAS_API_URL", "http://127.0.0.1:8090")

# Community feeds: publishing builds from the cache `invoke aggregate` filled;
# PIAZZA_REFRESH_FEEDS=1 fetches every feed first (the network, then the build).
COMMUNITY_REFRESH_ON_BUILD = os.environ.get("PIAZZA_REFRESH_FEEDS") == "1"

# Drafts are never published; `invoke preview` turns them back on locally.
DRAFT_SAVE_AS = ""
DRAFT_LANG_SAVE_AS = ""
DRAFT_PAGE_SAVE_AS = ""
DRAFT_PAGE_LANG_SAVE_AS = ""

# Pre-compressed .br and .gz siblings of text files, served by nginx's
# brotli_static/gzip_static (deploy/nginx.conf). Production only. Made once
# per file version (a cache by content hash in var/compressed/) on every core,
# so a republish compresses only what changed (plugins/compressed/settings.py
# lists the settings and why brotli runs at quality 5).
PLUGINS = [*PLUGINS, "compressed"]

# Markdown read once per version of each source (plugins/readcache: Pelican's
# reader cache in a folder fingerprinted by the settings and code that read
# it, files told apart by content hash), so a republish reads what changed.
PLUGINS = [*PLUGINS, "readcache"]
READ_CACHE = True

# Pages rendered again only when something they show changed (plugins/
# rendercache: each page kept under a key of its template, its context and
# the fields of every post, with the bodies it read checked apart), so a
# republish renders the changed post and the listings that show it.
PLUGINS = [*PLUGINS, "rendercache"]
RENDER_CACHE = True
