"""Every command README.md and docs/trien-khai.md give in a shell block is exercised by a named
test, and is real: `cns …` parses with the real command line (an option that does not exist
fails), `make X` is a target of the Makefile, `docker compose …` names a Compose v2 subcommand
(and its flags, when a Compose client is installed) and services of docker-compose.yml."""

from __future__ import annotations

import ast
import re
import shlex
import subprocess
from functools import cache

import click
import pytest
import yaml
from click.testing import CliRunner

from cns.main import cli
from core.settings import PROJECT_ROOT
from tests.documented import Command, documented_commands

# What exercises each documented command: (pattern matched from the start, test node).
EXERCISED: tuple[tuple[str, str], ...] = (
    (r"make run$", "tests/e2e/test_stack.py::test_healthz_is_green"),
    (r"make test$", "tests/test_documented_commands.py::test_every_command_is_exercised"),
    (r"curl .*/api/chat", "tests/e2e/test_stack.py::test_greeting_in_vietnamese_with_buttons"),
    (r"curl .*/healthz$", "tests/e2e/test_stack.py::test_healthz_is_green"),
    (r"cp \.env\.example \.env$",
     "tests/core/test_settings.py::test_env_example_lists_every_setting_and_loads"),
    (
        r"cns zalo connect\b",
        "tests/cns/test_zalo_connect.py::test_the_first_tokens_are_stored_where_the_gateway_reads_them",
    ),
    (r"cns migrate$", "tests/test_backup_restore.py::test_a_restored_backup_is_served_as_it_was"),
    (r"cns seed-demo\b", "tests/cns/test_seed_demo.py::test_seed_then_report_then_clear"),
    (r"cns report\b", "tests/cns/test_report_cli.py::test_a_commune_report_as_csv"),
    (r"cns staff (add|list|remove)\b",
     "tests/cns/test_staff.py::test_add_by_code_and_by_name_then_list_and_remove"),
    (r"cns staff password\b", "tests/cns/test_staff.py::test_password_sets_a_new_hashed_password"),
    (r"cns announce (create|list|show|approve|cancel)\b",
     "tests/cns/test_announce.py::test_a_commune_draft_approved_by_a_second_person_then_cancelled"),
    (r"cns volunteer (add|list|remove)\b",
     "tests/cns/test_volunteers.py::test_add_by_code_and_by_name_then_list_and_remove"),
    (r"cns volunteer invite\b",
     "tests/cns/test_volunteers.py::test_invite_prints_a_one_time_code_that_registers"),
    (r"cns volunteer login\b",
     "tests/cns/test_volunteers.py::test_login_sets_a_hashed_web_password"),
    (r"cns desk links?\b",
     "tests/cns/test_volunteers.py::test_desk_link_routes_communes_to_a_group"),
    (r"cns purge$", "tests/cns/test_purge.py::test_purge_deletes_only_what_is_past_retention"),
    (r"cns nlu (review|import)\b",
     "tests/e2e/test_nlu_loop.py::test_review_then_import_adds_exactly_the_new_labelled_rows"),
    (r"cns forget\b",
     "tests/cns/test_forget.py::test_forget_by_channel_account_erases_profile_and_conversation"),
    (r"docker compose exec -T postgres .*(--if-exists|_cu RENAME)",
     "tests/test_backup_restore.py::test_a_restore_can_be_undone"),
    (r"docker compose exec -T postgres ",
     "tests/test_backup_restore.py::test_a_restored_backup_is_served_as_it_was"),
    (r"docker compose ", "tests/test_deployment.py::test_docker_compose_config_is_valid"),
)  # fmt: skip

# Commands of the operating system, not of this project: nothing of ours to exercise.
OUTSIDE: tuple[tuple[str, str], ...] = (
    (r"git (clone|pull)\b", "fetches the source"),
    (r"cd \S+$", "enters the source folder"),
    (r"chmod 600 \.env$", "keeps the secrets readable by their owner only"),
    (r"openssl rand -hex 32$", "makes a URL-safe random secret"),
    (r"mkdir -p sao-luu$", "makes the backup folder"),
    (r"find sao-luu -name '\*\.dump' -mtime \+30 -delete$", "deletes backups older than 30 days"),
)

# How the documents run `cns`: on a laptop or inside the production stack.
CNS = re.compile(
    r"(?:uv run (?:--frozen )?|\.venv/bin/|docker compose exec (?:-T )?gateway )?cns (?P<args>.*)"
)
MAKE_CNS = re.compile(r"make cns ARGS=(?P<quoted>.*)")
PLACEHOLDER = re.compile(r"<[^<>\s]+>")
SAMPLES = {"--chat": "-1001234567890", "--commune": "00004", "--province": "01"}
SAMPLE_PASSWORD = "mat-khau-mau-12345"
COMPOSE_SUBCOMMANDS = frozenset(
    {"build", "config", "cp", "create", "down", "events", "exec", "images", "kill", "logs", "ls",
     "pause", "port", "ps", "pull", "push", "restart", "rm", "run", "start", "stop", "top",
     "unpause", "up", "version", "wait", "watch"}
)  # fmt: skip
COMPOSE_GLOBAL_VALUE_FLAGS = frozenset({"--env-file", "-f", "--file", "-p", "--project-name"})
COMPOSE_VALUE_FLAGS = frozenset({"--tail", "--since", "--until", "-u", "--user", "-w", "--workdir"})

COMMANDS = documented_commands()


def _matching(command: Command, table: tuple[tuple[str, str], ...]) -> str | None:
    """The target of the first pattern matching `command` (a `cns` command as `cns ARGS`,
    however the document runs it)."""
    args = cns_args(command)
    text = command.text if args is None else f"cns {shlex.join(args)}"
    return next((target for pattern, target in table if re.match(pattern, text)), None)


def cns_args(command: Command) -> list[str] | None:
    """The arguments of a `cns` command however it is run, placeholders given sample values."""
    make = MAKE_CNS.fullmatch(command.text)
    text = f"cns {shlex.split(make['quoted'])[0]}" if make else command.text
    found = CNS.fullmatch(text)
    if found is None:
        return None
    words = shlex.split(found["args"])
    return [
        PLACEHOLDER.sub(SAMPLES.get(words[n - 1], "1") if n else "1", word)
        for n, word in enumerate(words)
    ]


def _node_exists(node: str) -> bool:
    path, _, name = node.partition("::")
    module = PROJECT_ROOT / path
    if not module.is_file():
        return False
    tree = ast.parse(module.read_text(encoding="utf-8"))
    return any(
        isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and item.name == name
        for item in ast.walk(tree)
    )


def test_every_command_is_exercised() -> None:
    assert len(COMMANDS) > 20
    unknown = [
        f"{c.where}: {c.text}"
        for c in COMMANDS
        if _matching(c, EXERCISED) is None and _matching(c, OUTSIDE) is None
    ]
    assert not unknown, (
        "documented commands no test exercises (add the test to EXERCISED in "
        f"{__name__}):\n" + "\n".join(unknown)
    )


def test_every_named_test_exists() -> None:
    missing = [node for _, node in EXERCISED if not _node_exists(node)]
    assert not missing, f"EXERCISED names tests that do not exist: {missing}"


def _parse(args: list[str]) -> None:
    """Parse `cns ARGS` down to its last subcommand as the real command line would (options,
    types, choices, callbacks), prompting for a password with a sample answer."""
    command: click.Command = cli
    name: str | None = "cns"
    parent: click.Context | None = None
    with CliRunner().isolation(input=f"{SAMPLE_PASSWORD}\n" * 2):
        while True:
            context = command.make_context(name, list(args), parent=parent)
            if not isinstance(command, click.Group):
                return
            rest = [*context._protected_args, *context.args]
            name, sub, args = command.resolve_command(context, rest)
            assert sub is not None
            command, parent = sub, context


@pytest.mark.parametrize(
    "command",
    [c for c in COMMANDS if cns_args(c) is not None],
    ids=lambda c: c.where,
)
def test_cns_commands_parse(command: Command) -> None:
    args = cns_args(command)
    assert args is not None
    try:
        _parse(args)
    except click.ClickException as exc:
        pytest.fail(f"{command.where}: `{command.text}` does not parse: {exc.format_message()}")


@cache
def _make_targets() -> frozenset[str]:
    makefile = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    rules = re.findall(r"^([A-Za-z0-9_./ -]+?)\s*:(?![=:])", makefile, flags=re.MULTILINE)
    return frozenset(target for rule in rules for target in rule.split())


@pytest.mark.parametrize(
    "command", [c for c in COMMANDS if c.text.startswith("make ")], ids=lambda c: c.where
)
def test_make_targets_exist(command: Command) -> None:
    target = shlex.split(command.text)[1]
    assert target in _make_targets(), f"{command.where}: no target {target} in the Makefile"


@cache
def _compose_services() -> frozenset[str]:
    compose = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    return frozenset(compose["services"])


@cache
def _compose_help(subcommand: str) -> str | None:
    """`docker compose SUBCOMMAND --help`, or None without a Compose v2 client."""
    try:
        done = subprocess.run(
            ["docker", "compose", subcommand, "--help"],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def _flags_and_positionals(
    words: list[str], value_flags: frozenset[str]
) -> tuple[list[str], list[str]]:
    """Leading flags (with their values skipped) and what follows them."""
    flags: list[str] = []
    at = 0
    while at < len(words) and words[at].startswith("-"):
        flags.append(words[at])
        at += 2 if words[at] in value_flags else 1
    return flags, words[at:]


@pytest.mark.parametrize(
    "command",
    [c for c in COMMANDS if c.text.startswith("docker compose ")],
    ids=lambda c: c.where,
)
def test_compose_commands_use_real_subcommands_and_services(command: Command) -> None:
    words = shlex.split(re.split(r"\s[<>]\s", command.text)[0])[2:]
    _, rest = _flags_and_positionals(words, COMPOSE_GLOBAL_VALUE_FLAGS)
    subcommand, *rest = rest
    assert subcommand in COMPOSE_SUBCOMMANDS, f"{command.where}: no `docker compose {subcommand}`"
    flags, positionals = _flags_and_positionals(rest, COMPOSE_VALUE_FLAGS)
    if subcommand == "cp":  # SERVICE:PATH and a local path, either way round
        services = [word.partition(":")[0] for word in positionals if ":" in word]
    else:
        services = positionals[:1] if subcommand in ("exec", "run") else positionals
    unknown = sorted(set(services) - _compose_services())
    assert not unknown, f"{command.where}: no service {unknown} in docker-compose.yml"
    usage = _compose_help(subcommand)
    if usage is not None:  # a Compose v2 client is installed: its flags too
        for flag in flags:
            assert re.search(rf"(^|[\s,]){re.escape(flag)}\b", usage), (
                f"{command.where}: `docker compose {subcommand}` has no flag {flag}"
            )
