"""`make report-screenshot`: the HTML report of a month opened in headless Chromium, saved as
docs/report-screenshot.png (the first A4-width screen) for the README.

Reads the database of DATABASE_URL (run `cns seed-demo` first for a full report):
`python -m bench.report_screenshot [--province 01 | --commune 00004] [--month YYYY-MM]`.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from core.db import session_scope
from core.models import utcnow
from core.settings import PROJECT_ROOT
from reports.html import render_html
from reports.metrics import commune_report, province_report
from reports.model import Period
from tests.browser import launch_chromium

OUT = PROJECT_ROOT / "docs" / "report-screenshot.png"
A4_WIDTH_PX = 794  # 210 mm at 96 dpi


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    place = parser.add_mutually_exclusive_group()
    place.add_argument("--province", default=None)
    place.add_argument("--commune", default=None)
    parser.add_argument("--month", default=Period.containing(utcnow()).previous().label)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    period = Period.parse(args.month)
    with session_scope() as session:
        if args.commune:
            report = commune_report(session=session, commune_code=args.commune, period=period)
        else:
            code = args.province or "01"
            report = province_report(session=session, province_code=code, period=period)
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        page_file = Path(tmp) / "report.html"
        page_file.write_text(render_html(report), encoding="utf-8")
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": A4_WIDTH_PX, "height": 1400})
        page.goto(page_file.as_uri())
        page.screenshot(path=str(args.out), full_page=False)
        browser.close()
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
