"""The gateway's static files (/static): pages' scripts, styles and the chat page's assets.

A browser must ask again before it reuses one (`Cache-Control: no-cache`; an unchanged file is
answered with 304 Not Modified): a staff page's ES modules are fetched one by one, and after a
deploy a module kept by heuristic caching next to new ones could import a name that no longer
exists and leave the page blank."""

from __future__ import annotations

import os

from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import Scope


class RevalidatedStaticFiles(StaticFiles):
    """StaticFiles whose every answer (200 or 304) says `Cache-Control: no-cache`."""

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = "no-cache"
        return response
