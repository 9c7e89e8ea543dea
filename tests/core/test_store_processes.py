"""Several processes on one store (a SQLite file, and a PostgreSQL database of its own): exact totals,
outcomes reported from another process, two processes racing on one alias."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from support.store import cloud, features, pg_database, predict_many, race_alias, record_outcome


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite'}"
    else:
        with pg_database() as url:
            yield url


def _pool(n: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("fork"))


def test_four_processes_give_exact_totals(store_url: str) -> None:
    with _pool(4) as pool:  # four processes starting together on an empty database: one creates it
        runs = [pool.submit(predict_many, store_url, 500, seed) for seed in range(4)]
        ids = [pid for run in runs for pid in run.result(timeout=240)]
    assert len(set(ids)) == 2000
    with cloud(store_url) as ai:
        stats = ai.stats("logit-v1")
        assert stats.total == 2000 and stats.successes == 2000 and stats.failures == 0
        assert stats.dropped == 0
        assert ai.stats()["logit-v1"].total == 2000
        assert ai.health("logit-v1").stats.total == 2000
        logged = ai.predictions.get(ids[1234])
        assert (logged.model_id, logged.model_version, logged.variant) == ("logit-v1", "2.0.0", None)


def test_outcome_from_another_process_is_counted(store_url: str) -> None:
    with cloud(store_url) as ai:
        made = [ai.predict("logit-v1", features(i), use_cache=False) for i in range(3)]
        assert ai.stats("logit-v1").outcomes == 0
    probability = made[0].prediction["probability"]
    with _pool(1) as pool:
        error = pool.submit(record_outcome, store_url, made[0].prediction_id, 1.0).result(timeout=120)
    assert error == pytest.approx(1.0 - probability)
    with cloud(store_url) as ai:
        stats = ai.stats("logit-v1")
        assert stats.outcomes == 1
        assert stats.mae == pytest.approx(1.0 - probability)


def test_two_processes_racing_on_one_alias(store_url: str) -> None:
    cloud(store_url).close()
    ctx = multiprocessing.get_context("fork")
    with ctx.Manager() as manager, _pool(2) as pool:
        barrier = manager.Barrier(2)
        runs = {v: pool.submit(race_alias, store_url, v, barrier) for v in ("1.0.0", "2.0.0")}
        outcome = {v: run.result(timeout=120) for v, run in runs.items()}
    assert sorted(outcome.values()) == ["conflict", "won"]  # exactly one winner
    winner = next(v for v, o in outcome.items() if o == "won")
    loser = next(v for v, o in outcome.items() if o == "conflict")
    with cloud(store_url) as ai:
        history = [h for h in ai.registry.history("logit-v1") if h.action == "alias"]
        # both changes, in order, none lost: the loser re-read the winner's value before retrying
        assert [(h.actor, h.detail["before"]["version"], h.detail["after"]["version"]) for h in history] == [
            (f"racer-{winner}", None, winner),
            (f"racer-{loser}", winner, loser),
        ]
        assert ai.registry.aliases("logit-v1") == {"logit-v1": {"champion": loser}}
        assert ai.predict("logit-v1@champion", features(1)).model_version == loser
