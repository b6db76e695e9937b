"""`cns` where people type it: `make cns ARGS=…` on a laptop (real make), `make help` naming
every target exactly as the README shows it, and the container image with `cns` on its PATH
and a var/ directory its user may write (reports go there)."""

from __future__ import annotations

import re
import subprocess

from core.settings import PROJECT_ROOT

COMMANDS = ("desk", "forget", "migrate", "nlu", "report", "run", "staff", "volunteer", "zalo")


def make(*args: str) -> str:
    done = subprocess.run(
        ["make", "--no-print-directory", "-s", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return done.stdout


def test_make_cns_runs_the_command_line() -> None:
    out = make("cns", "ARGS=--help")
    assert "Usage: cns [OPTIONS] COMMAND [ARGS]..." in out
    listed = re.findall(r"^  ([a-z-]+) ", out, flags=re.MULTILINE)
    assert set(COMMANDS) <= set(listed)
    assert "connect" in make("cns", "ARGS=zalo --help")


def test_make_help_describes_every_target_and_the_readme_shows_it() -> None:
    makefile = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    phony = re.search(r"^\.PHONY:(.*)$", makefile, flags=re.MULTILINE)
    assert phony is not None
    listed = make("help")
    assert "no description" not in listed
    described = re.findall(r"^make (\S+) ", listed, flags=re.MULTILINE)
    assert sorted(described) == sorted(phony[1].split())
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert f"```text\n$ make help\n{listed}```\n" in readme


def test_the_container_has_cns_on_its_path_and_a_var_directory_it_may_write() -> None:
    dockerfile = (PROJECT_ROOT / "docker" / "app.Dockerfile").read_text(encoding="utf-8")
    assert 'PATH="/app/.venv/bin:${PATH}"' in dockerfile
    assert "UV_PROJECT_ENVIRONMENT=/app/.venv" in dockerfile
    assert "chown cns:cns /app/var" in dockerfile
    assert dockerfile.index("chown cns:cns /app/var") < dockerfile.index("USER cns")
    scripts = (PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'cns = "cns.main:cli"' in scripts
