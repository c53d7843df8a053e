"""Agent status rows under several workers: a run counted while another worker counts one of
the same agent for the same user."""

import threading

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from photon.extensions import db
from photon.models import User
from photon.store import agent_status
from photon.types import Agent


def test_two_runs_counted_at_once_count_two_and_each_announces_its_own(app, auth, backend):
    if backend != "postgres":
        pytest.skip("SQLite has no row locks; the scale-out setups run PostgreSQL")
    auth.register("alice")
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == "alice"))
        engine = db.engine
    second_wrote: list[int] = []
    second_done = threading.Event()

    def second_worker() -> None:
        with Session(engine) as session:
            status = agent_status.get(session, user_id, Agent.DECISION_MAKER, lock=True)
            agent_status.record_run(status, None)
            second_wrote.append(agent_status.snapshot(status).cycles)
            session.commit()
        second_done.set()

    with Session(engine) as first:
        status = agent_status.get(first, user_id, Agent.DECISION_MAKER, lock=True)
        agent_status.record_run(status, None)
        first.flush()
        worker = threading.Thread(target=second_worker)
        worker.start()
        # The second run waits for the first one's commit instead of counting from the same 0.
        assert not second_done.wait(0.5)
        first_wrote = agent_status.snapshot(status)
        first.commit()
    worker.join(10)
    # Each run's snapshot says what it wrote, though the row has moved on since the first.
    assert (first_wrote.cycles, second_wrote) == (1, [2])
    with Session(engine) as session:
        assert agent_status.find(session, user_id, Agent.DECISION_MAKER).cycles == 2
