"""The public record: "Cosa abbiamo fatto con le vostre idee" /
"What we did with your ideas", built at every build from the ideas service's
snapshot (plugins/ideaboard/snapshot.py; a service that is down means the
last known copy, never a failed build).

Aggregate numbers only: the share of ideas with a company answer, the median
time to the first answer, ideas done per quarter, the latest decisions with
links to the board's idea pages (or to the board). No
name, e-mail or address of a reader is on the page. The figures are
``figures.py``'s, which the leader's report (piazza/report) shows too.

Settings and their defaults: ``accountability/settings.py``. The snapshot is
loaded here as well as by the board's generator: loading is one small HTTP
read (or the cached file), so each keeps its own.
"""


def register() -> None:
    from pelican import signals  # noqa: PLC0415

    from accountability import generator  # noqa: PLC0415

    signals.get_generators.connect(generator.get_generators)
