"""Password hashing for the web desk: scrypt from the standard library, with a random salt.

Stored as `scrypt$n$r$p$salt_hex$hash_hex`, so the cost can be raised later without breaking
existing hashes. One check costs tens of milliseconds of CPU and 16 MiB: async callers use
`password_matches`, which runs it on a small pool of its own threads, never on the event loop
(that would stall every resident's chat) nor on the default threads the database calls use.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from concurrent.futures import ThreadPoolExecutor

N, R, P = 2**14, 8, 1
MIN_LENGTH = 10
SCRYPT_THREADS = 2  # checks running at once; a burst of sign-ins waits its turn

_scrypt_pool = ThreadPoolExecutor(max_workers=SCRYPT_THREADS, thread_name_prefix="scrypt")


class WeakPassword(ValueError):
    """A password too short to protect residents' conversations."""


def hash_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"a desk password has at least {MIN_LENGTH} characters")
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=N, r=R, p=P)
    return f"scrypt${N}${R}${P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str | None) -> bool:
    """True when `password` matches; False for a missing or malformed hash."""
    if not stored:
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        computed = hashlib.scrypt(
            password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p)
        )
    except ValueError:
        return False
    return hmac.compare_digest(computed, bytes.fromhex(digest))


async def password_matches(password: str, stored: str | None) -> bool:
    """`verify_password` for async callers, off the event loop."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_scrypt_pool, verify_password, password, stored)


# A hash to check against when the user name is unknown, so that a wrong name takes as long
# as a wrong password (no telling which names exist).
DUMMY_HASH = hash_password(secrets.token_hex(16))
