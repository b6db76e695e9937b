"""`cns run --replicas`: the counts, the refusals, and the files it generates for HAProxy and
Rasa (checked with HAProxy's own `-c`). The processes themselves run in
tests/e2e/test_scale_out.py."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from cns.replicas import (
    Replicas,
    ReplicasRefused,
    SharedStores,
    endpoints_yaml,
    haproxy_executable,
    write_proxy_files,
)
from cns.stack import Ports, local_services

POSTGRES = "postgresql+psycopg://cns:s3cret@db.internal:5433/cns"
REDIS = "redis://:r3dis@cache.internal:6380/2"


def test_replica_counts_are_parsed_politely() -> None:
    assert Replicas.parse("rasa=2, gateway=3") == Replicas(rasa=2, actions=1, gateway=3)
    for wrong in ("rasa=0", "rasa", "nginx=2", "gateway=two"):
        with pytest.raises(ValueError, match="SERVICE=N"):
            Replicas.parse(wrong)


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"DATABASE_URL": "sqlite:///var/cns.sqlite3", "REDIS_URL": REDIS}, "PostgreSQL"),
        ({"REDIS_URL": REDIS}, "PostgreSQL"),
        ({"DATABASE_URL": POSTGRES}, "REDIS_URL"),
        (
            {"DATABASE_URL": POSTGRES, "REDIS_URL": REDIS, "TELEGRAM_BOT_TOKEN": "1:x"},
            "TELEGRAM_MODE=webhook",
        ),
    ],
)
def test_replicas_refuse_what_cannot_be_shared(env: dict[str, str], says: str) -> None:
    with pytest.raises(ReplicasRefused, match=says):
        SharedStores.of(env, Replicas(rasa=2, gateway=2))


def test_rasa_trackers_get_a_database_of_their_own_unless_one_is_named() -> None:
    stores = SharedStores.of({"DATABASE_URL": POSTGRES, "REDIS_URL": REDIS}, Replicas())
    assert stores.tracker_database_url.endswith("@db.internal:5433/cns_rasa")
    named = POSTGRES.replace("/cns", "/trackers")
    env = {"DATABASE_URL": POSTGRES, "REDIS_URL": REDIS, "RASA_TRACKER_DATABASE_URL": named}
    assert SharedStores.of(env, Replicas()).tracker_database_url == named


def test_rasa_endpoints_name_the_shared_stores_and_keep_passwords_out() -> None:
    tracker = f"{POSTGRES}_rasa?options=-csearch_path%3Dtrackers"
    text, env = endpoints_yaml(SharedStores(POSTGRES, tracker, REDIS))
    assert "s3cret" not in text
    assert "r3dis" not in text
    assert env == {"RASA_TRACKER_PASSWORD": "s3cret", "RASA_LOCK_STORE_PASSWORD": "r3dis"}
    endpoints = yaml.safe_load(text)
    assert endpoints["tracker_store"] == {
        "type": "nlu.tracker_store.ConsentAwareSQLTrackerStore",
        "dialect": "postgresql",
        "url": "db.internal",
        "port": 5433,
        "db": "cns_rasa",
        "login_db": "cns",
        "username": "cns",
        "password": "${RASA_TRACKER_PASSWORD}",
        "query": {"options": "-csearch_path=trackers"},
    }
    assert endpoints["lock_store"] == {
        "type": "redis",
        "url": "cache.internal",
        "port": 6380,
        "db": 2,
        "key_prefix": "cns",
        "password": "${RASA_LOCK_STORE_PASSWORD}",
    }
    assert endpoints["action_endpoint"]["url"] == "${ACTIONS_URL}/webhook"


def test_replicas_run_behind_one_proxy_that_haproxy_accepts(tmp_path: Path) -> None:
    env = {"DATABASE_URL": POSTGRES, "REDIS_URL": REDIS, "PATH": "/usr/bin:/bin"}
    ports = Ports(rasa=15005, actions=15055, gateway=18000)
    services = local_services(
        Path.cwd(),
        Path("models/m.tar.gz"),
        ports,
        env=env,
        replicas=Replicas(rasa=2, gateway=3),
        var_dir=tmp_path,
    )
    names = [s.name for s in services]
    assert names == [
        "rasa-1",
        "rasa-2",
        "actions-1",
        "gateway-1",
        "gateway-2",
        "gateway-3",
        "haproxy",
    ]
    gateways = [s for s in services if s.name.startswith("gateway")]
    assert {s.env["RASA_URL"] for s in gateways} == {"http://127.0.0.1:15005"}  # the proxy
    assert len({s.env["GATEWAY_PORT"] for s in gateways} | {"18000"}) == 4
    assert services[0].env["RASA_LOCK_STORE_PASSWORD"] == "r3dis"
    assert "RASA_LOCK_STORE_PASSWORD" not in gateways[0].env
    config = tmp_path / "haproxy.cfg"
    assert services[-1].argv[-1] == str(config)
    text = config.read_text()
    assert "bind 127.0.0.1:18000" in text
    assert text.count("server gateway-") == 3
    checked = subprocess.run(
        [haproxy_executable(), "-c", "-f", str(config)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stderr


def test_the_default_stack_is_three_processes_without_a_proxy(tmp_path: Path) -> None:
    services = local_services(Path.cwd(), Path("m.tar.gz"), Ports(), env={}, var_dir=tmp_path)
    assert [s.name for s in services] == ["rasa", "actions", "gateway"]
    assert "endpoints.yml" in services[0].argv
    assert list(tmp_path.iterdir()) == []


def test_the_proxy_answers_in_the_gateways_polite_shape(tmp_path: Path) -> None:
    write_proxy_files(tmp_path, "127.0.0.1", {"gateway": 1}, {"gateway": [2]})
    head, _, body = (tmp_path / "haproxy-503.http").read_bytes().decode().partition("\r\n\r\n")
    assert head.startswith("HTTP/1.1 503 ")
    assert f"content-length: {len(body.encode())}" in head
    assert yaml.safe_load(body)["messages"][0]["text"].startswith("Dạ, hệ thống đang bận")
