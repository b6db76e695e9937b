"""The staff pages' scripts are ES modules under bot/web/static/js, loaded without a build
step: every module is served as JavaScript (browsers refuse a module of another type), every
relative import names a module that exists, each page loads its entry module, every module is
loaded by a page, and a browser revalidates a module before reusing it (no old module next to
new ones after a deploy)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.web.sessions import STATIC_DIR
from tests.factories import offline_settings

MODULES = sorted((STATIC_DIR / "js").rglob("*.js"))
IMPORT = re.compile(r'^\s*import\s[^"]*?from\s+"([^"]+)";', re.MULTILINE)
PAGES = {"/desk": "js/desk/main.js", "/admin/reports": "js/admin/main.js"}


@pytest.fixture
def client(app_database: str) -> Iterator[TestClient]:
    with TestClient(create_app(offline_settings(app_database))) as client:
        yield client


def test_every_module_is_served_as_javascript(client: TestClient) -> None:
    assert len(MODULES) > 10
    for module in MODULES:
        response = client.get(f"/static/{module.relative_to(STATIC_DIR).as_posix()}")
        assert response.status_code == 200, module
        assert response.headers["content-type"].split(";")[0] in {
            "text/javascript",
            "application/javascript",
        }, module
        assert response.headers["cache-control"] == "no-cache", module


def test_a_browser_revalidates_a_module_before_reusing_it(client: TestClient) -> None:
    first = client.get("/static/js/desk/main.js")
    again = client.get("/static/js/desk/main.js", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.relative_to(STATIC_DIR).as_posix())
def test_every_import_names_a_module_that_exists(module: Path) -> None:
    imports = IMPORT.findall(module.read_text(encoding="utf-8"))
    for specifier in imports:
        assert specifier.startswith(("./", "../")), specifier
        assert (module.parent / specifier).resolve() in MODULES, f"{module.name}: {specifier}"


def test_every_module_is_loaded_by_a_page() -> None:
    reached: set[Path] = set()
    waiting = [STATIC_DIR / entry for entry in PAGES.values()]
    while waiting:
        module = waiting.pop()
        if module not in reached:
            reached.add(module)
            text = module.read_text(encoding="utf-8")
            waiting += [(module.parent / s).resolve() for s in IMPORT.findall(text)]
    assert sorted(reached) == MODULES


@pytest.mark.parametrize(("page", "entry"), PAGES.items())
def test_each_page_loads_its_entry_module_only(client: TestClient, page: str, entry: str) -> None:
    response = client.get(page)
    scripts = re.findall(r"<script\b[^>]*>", response.text)
    assert scripts == [f'<script type="module" src="/static/{entry}">'], scripts
    assert (STATIC_DIR / entry) in MODULES
    assert "default-src 'self'" in response.headers["content-security-policy"]
