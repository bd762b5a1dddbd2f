"""The ideas service: proposals, their statuses and the company's answers,
and the votes that support them (issue 10).

Modules, by concern: :mod:`config` (settings from the environment),
:mod:`model` (frozen dataclasses), :mod:`rules` and :mod:`votes` (pure
logic), :mod:`db` (SQLite, migrations, transactions), :mod:`store` (the
operations, each one transaction), :mod:`pow` (proof of work),
:mod:`voters` (the voter cookie and confirmation tokens), :mod:`mail`
(SMTP), :mod:`app` (the WSGI app and its API), :mod:`content` (accepted
ideas as Markdown in git) and :mod:`cli` (the editors' terminal).
"""

import sys
from pathlib import Path

# The site's one sanitiser is the plugin package plugins/sanitize (imported
# as ``sanitize``, as Pelican's plugins import it); it needs nothing from
# Pelican. The other way round never happens: plugins never import services.
_PLUGINS = str(Path(__file__).resolve().parents[2] / "plugins")
if _PLUGINS not in sys.path:
    sys.path.append(_PLUGINS)
