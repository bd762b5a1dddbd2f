"""`invoke ideas --seed`: the demo's ideas into an empty database, once."""

from __future__ import annotations

import time

from conftest import ROOT, invoke

from services.ideas import store
from services.ideas.db import connect
from services.ideas.seed import DEMO_SUPPORT, from_content, seed

CONTENT = ROOT / "content" / "ideas"


def test_the_seed_matches_the_demos_content_and_plants_once(tmp_path):
    db = tmp_path / "ideas.db"
    planted, votes = seed(db, CONTENT, now=time.time())
    wanted = from_content(CONTENT)
    assert planted == len(wanted) >= 6
    assert votes == sum(i.supporters for i in wanted) > 0
    assert seed(db, CONTENT) == (0, 0)  # a database with ideas is left alone
    connection = connect(db)
    try:
        found, recent = store.snapshot(connection, time.time())
        assert store.audit(connection) == []
    finally:
        connection.close()
    by_id = {idea.id: idea for idea in found}
    for idea in wanted:
        served = by_id[idea.id]
        assert served.status == idea.status
        assert served.history[-1].status == idea.status
        assert served.history[0].status == "proposed"
        if idea.id in DEMO_SUPPORT:
            assert served.counts.supporters == DEMO_SUPPORT[idea.id]
        assert served.counts.confirmed <= served.counts.supporters
    assert any(recent.values()), "some support is recent: trending has ideas"
    duplicates = [i for i in found if i.status == "duplicate"]
    assert all(i.duplicate_of in by_id for i in duplicates)


def test_the_task_seeds_the_database_it_is_given(tmp_path):
    db = tmp_path / "dev.db"
    first = invoke(ROOT, "ideas", "--seed", "--db", str(db))
    assert first.returncode == 0, first.stderr
    assert "Seeded" in first.stdout
    again = invoke(ROOT, "ideas", "--seed", "--db", str(db))
    assert again.returncode == 0 and "not seeded" in again.stdout
