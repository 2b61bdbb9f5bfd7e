"""SQLite connection settings the bulk paths rely on (see store/database.py)."""

import sqlite3

from sqlalchemy import text

from allweather.store.database import make_engine


def _pragmas(engine) -> dict[str, object]:
    with engine.connect() as conn:
        return {
            name: conn.execute(text(f"PRAGMA {name}")).scalar_one()
            for name in ("page_size", "journal_mode", "synchronous", "wal_autocheckpoint")
        }


def test_a_new_database_gets_large_pages_and_wal(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'new.db'}")
    # synchronous 1 = NORMAL
    assert _pragmas(engine) == {
        "page_size": 16384,
        "journal_mode": "wal",
        "synchronous": 1,
        "wal_autocheckpoint": 4096,
    }


def test_an_existing_database_keeps_its_page_size(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:  # made elsewhere, with SQLite's default pages
        conn.execute("CREATE TABLE t (x)")
    engine = make_engine(f"sqlite:///{path}")
    assert _pragmas(engine)["page_size"] == 4096
    with engine.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 0
