"""The pure part of `make bench-turns` (bench/turns.py): the arrival schedule, the residents'
conversations, percentiles, CPU shares, request counting, Telegram answer attribution and
py-spy summaries. Nothing here starts a process or opens a socket (tests/test_bench_turns.py)."""

from __future__ import annotations

import math
import random
import re
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

# ----------------------------------------------------------------------------- schedule


def schedule(rate: float, seconds: float, *, poisson: bool = False, seed: int = 1) -> list[float]:
    """When each turn is due, in seconds from the start: `rate` a second for `seconds`, evenly
    spaced (or exponential gaps with the same mean when `poisson`). Open loop: the times never
    depend on how fast the stack answers."""
    if rate <= 0 or seconds <= 0:
        return []
    if not poisson:
        return [n / rate for n in range(math.ceil(rate * seconds - 1e-9))]
    rng = random.Random(seed)
    due, out = 0.0, []
    while due < seconds:
        out.append(due)
        due += rng.expovariate(rate)
    return out


# ----------------------------------------------------------------------------- statistics


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (`share` in 0..1) of `values`; nan when there are none."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def achieved_rate(dues: Sequence[float], latencies: Sequence[float], seconds: float) -> float:
    """Turns answered a second: answers completed in a window as long as the offered run,
    shifted by the median latency (turns due at 0..`seconds` are answered at about
    L..`seconds`+L when the stack keeps up; when it falls behind, fewer land in the window).
    `dues` from the run's start; `latencies` of the turns answered without error."""
    if not latencies:
        return 0.0
    shift = min(percentile(latencies, 0.5), seconds)
    done = [due + latency for due, latency in zip(dues, latencies, strict=True)]
    return sum(shift <= t < shift + seconds for t in done) / seconds


def sustained(offered: float, achieved: float, p95: float, errors: Mapping[str, int]) -> bool:
    """Whether a rate was held: at least 90 % of it answered (short runs read a little low, see
    `achieved_rate`), no errors, web p95 within 300 ms."""
    return achieved >= 0.9 * offered and not any(errors.values()) and p95 <= 0.300


def cpu_percent(ticks_before: int, ticks_after: int, seconds: float, clock_ticks: int) -> float:
    """CPU use of a process between two readings of utime+stime (in clock ticks), as a
    percentage of one core (200 means two cores busy)."""
    if seconds <= 0:
        return math.nan
    return 100.0 * (ticks_after - ticks_before) / clock_ticks / seconds


def proc_stat_ticks(stat_line: str) -> tuple[int, int]:
    """(parent pid, utime + stime) from a /proc/<pid>/stat line (the command may hold spaces
    and parentheses: fields are counted after its last ')')."""
    fields = stat_line[stat_line.rindex(")") + 2 :].split()
    return int(fields[1]), int(fields[11]) + int(fields[12])


# ----------------------------------------------------------------------------- conversations


@dataclass(frozen=True)
class Step:
    """One turn of a scripted resident: press the button titled `press` (or the first button
    of the last message that has buttons, with `first_button`) when the bot's last answer
    shows it, else type `text`."""

    text: str
    press: str | None = None
    first_button: bool = False


@dataclass(frozen=True)
class Button:
    title: str
    payload: str
    message: int  # which message of the answer carries it (0-based)


@dataclass(frozen=True)
class Choice:
    """What a resident sends: `text` (typed or a button's payload); `button` when pressed."""

    text: str
    button: Button | None = None


CONSENT_TITLE = "Đồng ý"
NEXT, STUCK = "Tiếp theo", "Tôi bị kẹt ở bước này"
# Typed words the e2e tests use (tests/e2e): what a resident types when there is no button.
COMMUNE_TEXT = "phuong ba dinh ha noi"
CANCEL_HANDOFF = "/cancel_handoff"
# Not in the training data: what the bot should not understand (nlu_fallback).
NONSENSE = (
    "cai may giat nha toi bi hong",
    "gia vang hom nay bao nhieu",
    "con meo nha toi khong chiu an",
    "asdfgh qwe",
    "toi muon mua xe may cu",
    "tran bong da toi qua ai thang",
)


def choose(step: Step, buttons: Sequence[Button]) -> Choice:
    """The button `step` presses in the last answer's `buttons`, else its typed text."""
    if step.press is not None:
        for button in reversed(buttons):
            if button.title == step.press:
                return Choice(button.payload, button)
    if step.first_button and buttons:
        last = max(b.message for b in buttons)
        first = next(b for b in buttons if b.message == last)
        return Choice(first.payload, first)
    return Choice(step.text)


def consent_button(buttons: Sequence[Button]) -> Button | None:
    """The privacy question's "agree" button, when the last answer asked it."""
    return next((b for b in buttons if b.title == CONSENT_TITLE), None)


@dataclass(frozen=True)
class Phrasings:
    """Real phrasings from the training data (data/nlu), by intent."""

    by_intent: Mapping[str, Sequence[str]]

    def pick(self, rng: random.Random, *intents: str) -> str:
        pool = [text for intent in intents for text in self.by_intent.get(intent, ())]
        if not pool:
            raise KeyError(f"no examples for {intents}")
        return rng.choice(pool)

    def services(self) -> list[str]:
        return sorted(i for i in self.by_intent if i.startswith("service_"))


def load_phrasings(nlu_dir: Path) -> Phrasings:
    """Every intent's examples in data/nlu/*.yml (annotations stripped)."""
    found: dict[str, list[str]] = {}
    for path in sorted(nlu_dir.glob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for item in document.get("nlu", []):
            if "intent" not in item:
                continue
            lines = str(item.get("examples", "")).splitlines()
            texts = [_plain(line.strip()[2:]) for line in lines if line.strip().startswith("- ")]
            found.setdefault(item["intent"], []).extend(t for t in texts if t)
    return Phrasings(found)


def _plain(example: str) -> str:
    """An example without entity annotations: "[Ba Đình](commune)" → "Ba Đình"."""
    return re.sub(r"\[([^\]]+)\](\([^)]*\)|\{[^}]*\})", r"\1", example).strip()


# The mix of conversations (sessions), with weights. A resident's next session starts when the
# last ended; new residents press "Đồng ý" when the privacy question comes (a handoff, …).
MIX: dict[str, float] = {
    "greeting": 0.20,
    "walkthrough": 0.35,
    "lesson": 0.20,
    "fallback": 0.15,
    "handoff": 0.10,
}


def session_steps(kind: str, phrasings: Phrasings, rng: random.Random) -> list[Step]:
    """The turns of one session of `kind` (see MIX)."""
    if kind == "greeting":
        return [Step(phrasings.pick(rng, "greet")), Step(phrasings.pick(rng, "thank"))]
    if kind == "walkthrough":
        service = rng.choice(phrasings.services())
        return [
            Step(phrasings.pick(rng, service)),
            Step("tiep theo", press=NEXT),
            Step("tiep theo", press=NEXT),
            Step("toi bi ket o buoc nay", press=STUCK),
            Step("tiep theo", press=NEXT),
            Step("thoat", press="Thoát"),
        ]
    if kind == "lesson":
        return [
            Step(phrasings.pick(rng, "start_lessons")),
            Step("bai dau tien", first_button=True),  # a lesson from the menu
            Step("tiep theo", press=NEXT),
            Step("tiep theo", press=NEXT),
            Step("tiep theo", press=NEXT),
        ]
    if kind == "fallback":
        words = rng.choice(NONSENSE) if rng.random() < 0.5 else phrasings.pick(rng, "out_of_scope")
        return [Step(words), Step(phrasings.pick(rng, "thank"))]
    if kind == "handoff":
        return [
            Step(phrasings.pick(rng, "request_human")),
            Step(COMMUNE_TEXT),  # the commune, asked while it is unknown
            Step(CANCEL_HANDOFF, press="Thôi, không cần nữa"),
        ]
    raise ValueError(f"unknown session kind {kind!r}")


def pick_kind(rng: random.Random, mix: Mapping[str, float] = MIX) -> str:
    kinds = list(mix)
    return rng.choices(kinds, weights=[mix[k] for k in kinds])[0]


# ----------------------------------------------------------------------------- requests


_ID_SEGMENT = re.compile(r"^/conversations/[^/]+/")


def route_of(request_line: str) -> str:
    """ "POST /conversations/abc/trigger_intent?token=x HTTP/1.1" → "POST
    /conversations/{id}/trigger_intent": requests counted by what they do, not whom."""
    method, target = request_line.split(" ", 2)[:2]
    path = target.split("?", 1)[0]
    return f"{method} {_ID_SEGMENT.sub('/conversations/{id}/', path)}"


# ----------------------------------------------------------------------------- Telegram


def attribute_answers(
    dues: Sequence[float], answer_sizes: Sequence[int], sent_at: Sequence[float]
) -> list[float | None]:
    """Latency of each of one chat's turns, in order: from when it was due to when the last
    message of its answer was sent. A Telegram resident writes again only once the chat was
    quiet for a while (QUIET), so the messages the fake Bot API got between one turn and the
    chat's next are that turn's answer (a turn's bubbles are joined into fewer messages, so
    the gateway's message_out events, one per bubble, cannot count them). `answer_sizes` is
    how many bubbles the gateway answered each turn with (its message_out events, in order):
    None for a turn it never recorded, or left silent (0: the desk has the resident), or
    whose answer has not arrived."""
    out: list[float | None] = []
    for index, due in enumerate(dues):
        until = dues[index + 1] if index + 1 < len(dues) else float("inf")
        block = [t for t in sent_at if due <= t < until]
        answered = index < len(answer_sizes) and answer_sizes[index] > 0
        out.append(block[-1] - due if answered and block else None)
    return out


def answer_sizes(rows: Iterable[str]) -> list[int]:
    """Messages out after each message in: `rows` are one resident's event types in order."""
    sizes: list[int] = []
    for type_ in rows:
        if type_ == "message_in":
            sizes.append(0)
        elif type_ == "message_out" and sizes:
            sizes[-1] += 1
    return sizes


# ----------------------------------------------------------------------------- py-spy


@dataclass(frozen=True)
class Profile:
    samples: int
    by_package: list[tuple[str, float]]  # share of samples whose innermost frame is there
    self_time: list[tuple[str, float]]  # innermost function
    inclusive: list[tuple[str, float]]  # on the stack
    ours: list[tuple[str, float]] = field(default_factory=list)  # our functions on the stack


def summarise_profile(raw: str, top: int = 12) -> Profile:
    """A py-spy `--format raw` (collapsed stacks: "frame;frame;... count") summary."""
    total = 0
    packages: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    for line in raw.splitlines():
        stack, _, count_text = line.rstrip().rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [f for f in stack.split(";") if f and not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        total += count
        leaves[frames[-1]] += count
        packages[package_of(frames[-1])] += count
        for frame in set(frames):
            package = package_of(frame)
            if not package.startswith("stdlib ") and not _entry_point(frame):
                inclusive[frame] += count
            if package.endswith("(ours)") and not _entry_point(frame):
                ours[frame] += count
    if not total:
        return Profile(0, [], [], [], [])

    def shares(counter: Counter[str], skip_over: float = 1.0) -> list[tuple[str, float]]:
        ranked = [(k, v / total) for k, v in counter.most_common()]
        return [(k, s) for k, s in ranked if s < skip_over][:top]

    # Frames on (nearly) every stack (the server's loop) say nothing; neither do the standard
    # library's (threads, the event loop), left out of `inclusive` above.
    return Profile(
        total,
        shares(packages),
        shares(leaves),
        shares(inclusive, skip_over=0.9),
        shares(ours, skip_over=0.9),
    )


OURS = ("bot", "core", "actions", "nlu", "cns", "reports")


# Frames that only start a process or its server loop: on most stacks, saying nothing.
ENTRY_POINTS = frozenset(
    {
        *("<module>", "main", "run", "asyncio_run", "Server.run", "Server.serve", "Server._serve"),
        *("Sanic.run", "serve", "serve_single", "serve_application", "handle_request"),
        *("connection_task", "Http.http1"),
    }
)


def _entry_point(frame: str) -> bool:
    return frame.split(" (", 1)[0] in ENTRY_POINTS


def package_of(frame: str) -> str:
    """Where a collapsed frame "func (path/to/file.py)" lives: the top-level package or
    module ("jsonschema", "bot/ (ours)", "stdlib json"). py-spy writes paths relative to the
    process's sys.path where it can, absolute ones otherwise."""
    match = re.search(r"\(([^()]+)\)$", frame)
    path = (match.group(1) if match else frame).split(":", 1)[0]
    if path.startswith("<frozen "):
        return "stdlib " + path.removeprefix("<frozen ").split(".", 1)[0].rstrip(">")
    if "site-packages/" in path:
        path = path.split("site-packages/", 1)[1]
    elif stdlib := re.search(r"/python3\.\d+/(.+)$", path):
        path = stdlib.group(1)
    elif path.startswith("/"):
        parts = Path(path).parts
        path = next(("/".join(parts[i:]) for i in range(len(parts)) if parts[i] in OURS), path)
    first = path.split("/", 1)[0].removesuffix(".py")
    if first in OURS:
        return f"{first}/ (ours)"
    return f"stdlib {first}" if first in sys.stdlib_module_names else first
