"""`cns zalo connect`: the Zalo Official Account's first access and refresh tokens.

Zalo's OA OAuth v4, authorization code with PKCE. The command makes a code verifier (64
URL-safe random characters), its challenge BASE64URL(SHA-256(verifier)) without padding and a
random `state`, and prints the permission page `{ZALO_OAUTH_BASE_URL}/v4/oa/permission?app_id=…
&redirect_uri=…&code_challenge=…&state=…`. The OA's admin opens it and allows the app; Zalo
then sends the browser to the app's callback URL with `?oa_id=…&code=…&state=…`. The officer
pastes that address (or only the code); the state must be this run's. The code and the verifier
are exchanged at `/v4/oa/access_token` the way the gateway refreshes (`request_tokens`), and
the pair is stored in the database row every gateway reads (`store_tokens`), so a running
gateway takes it up when Zalo refuses the token it holds, a new one at its start.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

import click
import httpx

from bot.channels.zalo import TokensRefused, request_tokens, store_tokens
from core.db import session_scope
from core.settings import Settings, get_settings

TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class Pkce:
    """One run's code verifier and state."""

    verifier: str
    state: str

    @classmethod
    def new(cls) -> Pkce:
        return cls(verifier=secrets.token_urlsafe(48), state=secrets.token_urlsafe(16))

    @property
    def challenge(self) -> str:
        """BASE64URL(SHA-256(verifier)), without padding."""
        digest = hashlib.sha256(self.verifier.encode("ascii")).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def permission_url(settings: Settings, redirect_uri: str, pkce: Pkce) -> str:
    """The page where the OA's admin allows the app."""
    query = {
        "app_id": settings.zalo_app_id or "",
        "redirect_uri": redirect_uri,
        "code_challenge": pkce.challenge,
        "state": pkce.state,
    }
    return f"{settings.zalo_oauth_base_url}/v4/oa/permission?{urlencode(query)}"


def code_of(pasted: str, pkce: Pkce) -> tuple[str, str | None]:
    """The authorization code (and the OA's id, when given) in what the officer pasted: the
    address Zalo redirected to, whose state must be this run's, or the code alone."""
    text = pasted.strip()
    if "=" not in text:
        return text, None
    fields = {name: values[0] for name, values in parse_qs(urlsplit(text).query or text).items()}
    if fields.get("state") != pkce.state:
        raise click.ClickException(
            "That address is not the answer to this run's permission page (its state differs). "
            "Please open the address printed above, allow the app, and paste where Zalo sends you."
        )
    if not fields.get("code"):
        raise click.ClickException(
            "That address carries no code: the app was not allowed. Please run "
            "`cns zalo connect` again and choose to allow it."
        )
    return fields["code"], fields.get("oa_id")


def masked(token: str) -> str:
    """Enough of a token to recognise it, not to use it."""
    return f"{token[:4]}…{token[-4:]} ({len(token)} characters)"


async def _exchange(settings: Settings, code: str, pkce: Pkce) -> tuple[str, str]:
    grant = {"grant_type": "authorization_code", "code": code, "code_verifier": pkce.verifier}
    async with httpx.AsyncClient(timeout=httpx.Timeout(TIMEOUT_SECONDS)) as http:
        return await request_tokens(http, settings, grant)


@click.group()
def zalo() -> None:
    """Connect the Zalo Official Account."""


@zalo.command()
@click.option(
    "--redirect-uri",
    required=True,
    help="The callback URL registered in the Zalo app (developers.zalo.me, Official Account "
    "Callback Url), e.g. https://your.domain/zalo/callback.",
)
def connect(redirect_uri: str) -> None:
    """Get the OA's first access and refresh tokens (the OA's admin allows the app once)."""
    settings = get_settings()
    missing = [
        name
        for name, value in (
            ("ZALO_APP_ID", settings.zalo_app_id),
            ("ZALO_APP_SECRET", settings.zalo_app_secret),
        )
        if not value
    ]
    if missing:
        raise click.ClickException(
            f"Please set {' and '.join(missing)} first (the app's id and secret on "
            "developers.zalo.me), then run this again."
        )
    pkce = Pkce.new()
    click.echo(
        "1. Signed in to Zalo as the Official Account's admin, open this address and allow "
        f"the app:\n\n   {permission_url(settings, redirect_uri, pkce)}\n\n"
        "2. Zalo then opens your callback address with ?code=… at the end (the page itself may "
        "show an error; that does not matter). Copy that whole address from the address bar."
    )
    code, oa_id = code_of(click.prompt("3. Paste it here (or only the code)"), pkce)
    try:
        pair = asyncio.run(_exchange(settings, code, pkce))
    except TokensRefused as exc:
        raise click.ClickException(
            f"Zalo did not give the tokens: {exc.explained()}. A code works once and only for "
            "a few minutes; please run `cns zalo connect` again."
        ) from exc
    except httpx.HTTPError as exc:
        raise click.ClickException(
            f"Zalo's OAuth server ({settings.zalo_oauth_base_url}) did not answer ({exc!r}); "
            "please try again."
        ) from exc
    with session_scope() as session:
        store_tokens(session, pair)
    oa = f" OA {oa_id}" if oa_id else " the OA"
    click.echo(
        f"Connected{oa}: access token {masked(pair[0])} and refresh token {masked(pair[1])} "
        "stored in the database. The gateway uses them from now on (and refreshes them itself); "
        "ZALO_ACCESS_TOKEN and ZALO_REFRESH_TOKEN are no longer read."
    )
