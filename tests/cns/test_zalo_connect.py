"""`cns zalo connect` against the fake Zalo OAuth server over HTTP: the permission page the
command prints is opened (the fake's OA admin allows the app and redirects with a code), the
address is pasted, the code and the PKCE verifier are exchanged and the first tokens land where
the gateway reads them; a foreign state, a wrong verifier, a used code and missing settings are
refused politely with nothing stored."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result

from bot.channels.zalo import ZaloTokens
from cns.main import cli
from cns.zalo import Pkce, permission_url
from core.db import session_scope
from core.kv import make_redis
from core.models import ChannelToken
from core.settings import get_settings
from tests.fakes.zalo_api import FakeZalo, pkce_challenge

CALLBACK = "https://cns.example.vn/zalo/callback"


@pytest.fixture
def zalo(app_database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeZalo]:
    """The fake Zalo, configured as the officer's environment (with the tokens of .env)."""
    with FakeZalo() as fake:
        for name, value in fake.gateway_settings().items():
            monkeypatch.setenv(name.upper(), value)
        get_settings.cache_clear()
        yield fake
    get_settings.cache_clear()


@pytest.fixture
def pkce(monkeypatch: pytest.MonkeyPatch) -> Pkce:
    """This run's verifier and state, known to the test (the officer's browser)."""
    made = Pkce.new()
    monkeypatch.setattr(Pkce, "new", classmethod(lambda cls: made))
    return made


def allow(pkce: Pkce) -> str:
    """The OA admin opens the permission page and allows: where Zalo sends the browser."""
    url = permission_url(get_settings(), CALLBACK, pkce)
    response = httpx.get(url, follow_redirects=False)
    assert response.status_code == 302, response.text
    return response.headers["location"]


def connect(pasted: str) -> Result:
    return CliRunner().invoke(cli, ["zalo", "connect", "--redirect-uri", CALLBACK], input=pasted)


def stored() -> tuple[str, str] | None:
    with session_scope() as session:
        row = session.get(ChannelToken, "zalo")
        return None if row is None else (row.access_token, row.refresh_token)


def test_the_first_tokens_are_stored_where_the_gateway_reads_them(
    zalo: FakeZalo, pkce: Pkce
) -> None:
    assert len(pkce.verifier) == 64
    assert pkce.challenge == pkce_challenge(pkce.verifier)
    redirected = allow(pkce)
    assert redirected.startswith(f"{CALLBACK}?oa_id={zalo.oa_id}&code=")
    result = connect(redirected + "\n")
    assert result.exit_code == 0, result.output
    assert permission_url(get_settings(), CALLBACK, pkce) in result.output
    assert f"Connected OA {zalo.oa_id}: access token" in result.output
    assert stored() == (zalo.access_token, zalo.refresh_token)
    assert zalo.access_token not in result.output
    assert zalo.refresh_token not in result.output
    call = zalo.refresh_calls[-1]
    assert (call["grant_type"], call["code_verifier"], call["ok"]) == (
        "authorization_code",
        pkce.verifier,
        True,
    )

    async def gateways_token() -> str:
        redis = make_redis(None)
        async with httpx.AsyncClient() as http:
            token = await ZaloTokens(get_settings(), redis, http).access()
        await redis.aclose()
        return token

    assert asyncio.run(gateways_token()) == zalo.access_token  # not .env's old one


def test_the_code_alone_may_be_pasted_and_works_once(zalo: FakeZalo, pkce: Pkce) -> None:
    code = httpx.URL(allow(pkce)).params["code"]
    assert connect(code + "\n").exit_code == 0
    first = stored()
    again = connect(code + "\n")
    assert again.exit_code == 1
    assert "Zalo did not give the tokens: code is invalid, expired or already used" in again.output
    assert "run `cns zalo connect` again" in again.output
    assert stored() == first


def test_a_wrong_verifier_is_refused_by_zalo(zalo: FakeZalo, pkce: Pkce) -> None:
    redirected = allow(Pkce(verifier="another-verifier-" * 4, state=pkce.state))
    result = connect(redirected + "\n")
    assert result.exit_code == 1
    assert "code_verifier does not match the code_challenge" in result.output
    assert stored() is None


def test_an_address_from_another_run_is_refused_before_zalo_is_asked(
    zalo: FakeZalo, pkce: Pkce
) -> None:
    redirected = allow(Pkce(verifier=pkce.verifier, state="someone-elses-state"))
    result = connect(redirected + "\n")
    assert result.exit_code == 1
    assert "its state differs" in result.output
    assert zalo.refresh_calls == []
    assert stored() is None


@pytest.mark.usefixtures("app_database")
def test_without_the_apps_id_and_secret_it_says_what_to_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ZALO_APP_ID", raising=False)
    monkeypatch.delenv("ZALO_APP_SECRET", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env here
    get_settings.cache_clear()
    result = connect("")
    assert result.exit_code == 1
    assert "Please set ZALO_APP_ID and ZALO_APP_SECRET first" in result.output
