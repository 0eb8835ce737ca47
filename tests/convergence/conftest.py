import pytest
import time_machine

from .harness import START, make_world


@pytest.fixture
def traveller():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(acme, traveller, monkeypatch):
    return make_world(acme.project, traveller, monkeypatch)
