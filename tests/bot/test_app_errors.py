"""The gateway's answer when its storage is down: PostgreSQL or Redis unreachable gives 503 with
the polite JSON shape (never a bare 500). (The web chat's own outage answers are tested with
the web chat.)"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.channels.web import RASA_DOWN_REPLY
from cns.stack import free_port
from tests.factories import offline_settings

POLITE = [{"text": RASA_DOWN_REPLY, "buttons": []}]


def test_redis_down_gives_a_polite_503(app_database: str) -> None:
    settings = offline_settings(app_database, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        for area in ("desk", "admin"):
            response = client.post(f"/{area}/api/login", json={"username": "a", "password": "b"})
            assert response.status_code == 503, area
            assert response.json()["messages"] == POLITE


@pytest.mark.parametrize(
    "database_url",
    [
        "postgresql+psycopg://postgres@127.0.0.1:{port}/test?connect_timeout=5",
        "sqlite:////nonexistent-directory/db.sqlite3",
    ],
)
def test_the_database_down_gives_a_polite_503(database_url: str) -> None:
    settings = offline_settings(database_url.format(port=free_port()))
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        response = client.post("/desk/api/login", json={"username": "lan", "password": "x" * 12})
        assert response.status_code == 503
        assert response.json()["messages"] == POLITE
