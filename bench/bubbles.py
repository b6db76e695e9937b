"""`python -m bench.bubbles`: how long a first-time resident waits for a walkthrough start on
Telegram — from the fake Bot API pushing the update to the gateway's webhook until the last
message of the answer is sent (the privacy question, asked of first-time residents), with the
real trained model, action server and gateway (tests/stack.py). Prints the timings."""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.stack import running_stack

SECRET = "bench-bubbles-secret"
ASK = "dang ky khai sinh cho con"
LAST = "Anh/chị có đồng ý cho em lưu"  # the last bubble of a first-time resident's answer
TIMEOUT = 60.0


def one_resident(telegram: Any, name: str) -> dict[str, float]:
    """A new resident asks for the birth registration walkthrough; seconds to the first and
    the last message, and how many messages the answer took."""
    user = telegram.user(name)
    chat = telegram.private_chat(user)["id"]
    started = time.perf_counter()
    telegram.user_text(user, ASK)
    first = 0.0
    while time.perf_counter() - started < TIMEOUT:
        sent = telegram.sent(chat_id=chat)
        if sent and not first:
            first = time.perf_counter() - started
        if any(LAST in (m.get("text") or "") for m in sent):
            return {
                "first": first,
                "last": time.perf_counter() - started,
                "messages": len(sent),
            }
        time.sleep(0.005)
    raise AssertionError(f"no answer within {TIMEOUT}s: {telegram.sent(chat_id=chat)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--residents", type=int, default=5)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_stack(Path(tmp), webhook_secret=SECRET) as stack,
    ):
        one_resident(stack.telegram, "warm-up")  # Rasa's and the actions' first turn is slow
        runs = [one_resident(stack.telegram, f"R{n}") for n in range(args.residents)]
    for run in runs:
        print(
            f"first message {run['first']:.2f} s, last {run['last']:.2f} s, "
            f"{run['messages']:.0f} messages"
        )
    lasts = [run["last"] for run in runs]
    print(f"last message: median {statistics.median(lasts):.2f} s, max {max(lasts):.2f} s")


if __name__ == "__main__":
    main()
