"""The README's and docs' screenshots: the demo's pages in Japanese at 1366×900 and 390×844.

usage: .venv/bin/python scripts/screenshots.py URL [OUT]   (URL of a served demo, e.g. http://127.0.0.1:8000)

Signs in as the demo's member and manager in headless Chromium and saves each page as
OUT/<name>-desktop.png and OUT/<name>-mobile.png (OUT defaults to docs/screenshots). A page the
server does not answer with 200 is reported and skipped.
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SIZES = {"desktop": (1366, 900), "mobile": (390, 844)}
PASSWORD = "leadops-demo"
#: (who signs in, page name, path); "{lead}" and "{account}" are filled from the member's queue.
PAGES = [
    ("hasegawa@demo.leadops.jp", "queue", "/queue"),
    ("hasegawa@demo.leadops.jp", "leads", "/leads"),
    ("hasegawa@demo.leadops.jp", "lead", "{lead}"),
    ("hasegawa@demo.leadops.jp", "company", "{account}"),
    ("hasegawa@demo.leadops.jp", "dashboard", "/dashboard"),
    ("hasegawa@demo.leadops.jp", "notifications", "/notifications"),
    ("hasegawa@demo.leadops.jp", "search", "/search?q=%E6%A0%AA%E5%BC%8F%E4%BC%9A%E7%A4%BE"),
    ("fujii@demo.leadops.jp", "board", "/board"),
    ("fujii@demo.leadops.jp", "team-dashboard", "/dashboard"),
    ("fujii@demo.leadops.jp", "report-kpis", "/reports/kpis"),
    ("fujii@demo.leadops.jp", "report-funnel", "/reports/funnel"),
    ("fujii@demo.leadops.jp", "report-forecast", "/reports/forecast"),
    ("ono@demo.leadops.jp", "rules-preview", "/rules#preview"),
]
#: The draft the rules preview is shot with: warmer temperature bands, a download worth more.
PREVIEW_EDITS = (
    ("{name: cold, below: 40}", "{name: cold, below: 30}"),
    ("points: 10", "points: 20"),
)


def main(base: str, out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        try:
            for email in dict.fromkeys(who for who, _, _ in PAGES):
                for size, (width, height) in SIZES.items():
                    shoot(browser, base, out, email, size, width, height)
        finally:
            browser.close()
    return 0


def shoot(browser, base: str, out: Path, email: str, size: str, width: int, height: int) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(
        viewport={"width": width, "height": height},
        locale="ja-JP",
        extra_http_headers={"Accept-Language": "ja"},
    )
    page = context.new_page()
    page.goto(f"{base}/signin")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    links = {"{lead}": None, "{account}": None}
    page.goto(f"{base}/leads")
    lead = page.locator("a[href^='/leads/']").first
    if lead.count():
        links["{lead}"] = lead.get_attribute("href")
        page.goto(base + str(links["{lead}"]))
        account = page.locator("a[href^='/accounts/']").first
        if account.count():
            links["{account}"] = account.get_attribute("href")
    for who, name, path in PAGES:
        if who != email:
            continue
        target = links.get(path, path) if path.startswith("{") else path
        if not target:
            print(f"skip {name}: no link found")
            continue
        response = page.goto(base + target)
        if response is None or response.status != 200:
            print(f"skip {name}: {target} answered {response.status if response else 'nothing'}")
            continue
        page.wait_for_load_state("networkidle")
        if target.endswith("#preview"):
            draft = page.input_value("#document")
            for old, new in PREVIEW_EDITS:
                draft = draft.replace(old, new, 1)
            page.fill("#document", draft)
            page.click("button[hx-post='/rules/preview']")
            page.wait_for_selector("#rule-preview", timeout=300_000)
            page.locator("#rule-preview").scroll_into_view_if_needed()
        wide = page.evaluate("document.documentElement.scrollWidth")
        file = out / f"{name}-{size}.png"
        page.screenshot(path=str(file), full_page=False)
        print(f"{file} ({target}, scroll width {wide}px)")
    context.close()


if __name__ == "__main__":
    sys.exit(
        main(
            sys.argv[1].rstrip("/"), Path(sys.argv[2] if len(sys.argv) > 2 else "docs/screenshots")
        )
    )
