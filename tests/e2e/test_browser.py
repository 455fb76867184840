"""The web app in a real browser: Playwright driving the system Chromium (/usr/bin/chromium, which
`make test` installs from Debian when it runs as root). Each test saves screenshots of the pages it
visits under build/screenshots/."""

from __future__ import annotations

import os
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from leadops.clock import FixedClock
from leadops.config import Settings
from leadops.runtime import Runtime
from leadops.web.app import create_app
from tests.conftest import NOW
from tests.webapp import EMAILS, PASSWORD, build_org

CHROMIUM = os.environ.get("LEADOPS_CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

CSP_WATCH = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const what = `CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"}`;
  window.cspViolations.push(what);
  console.error(what);
});
"""

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason=f"no Chromium at {CHROMIUM} (make test installs Debian's chromium as root)",
)
playwright_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def browser_runtime(sqlite_template: Path, tmp_path: Path) -> Iterator[Runtime]:
    target = tmp_path / "browser.db"
    shutil.copy(sqlite_template, target)
    rt = Runtime.create(Settings(database_url=f"sqlite:///{target}"), FixedClock(NOW))
    yield rt
    rt.close()


@pytest.fixture
def server(browser_runtime: Runtime) -> Iterator[str]:
    """A real server on a thread of its own, its imports on threads of theirs, as `leadops serve`
    runs. Its socket listens before the server starts, so the browser's first request waits in
    the socket's backlog: nothing polls for the server to be up."""
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen()
    port = int(listening.getsockname()[1])
    instance = uvicorn.Server(uvicorn.Config(create_app(browser_runtime), log_level="warning"))
    thread = threading.Thread(target=instance.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(timeout=60)  # only bounds a server that would not stop; nothing is decided by it
    listening.close()


@pytest.fixture
def browser() -> Iterator[object]:
    with playwright_api.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield instance
        instance.close()


def _page(browser: object, base: str, locale: str = "en-US") -> object:
    context = browser.new_context(
        base_url=base, locale=locale, viewport={"width": 1366, "height": 900}
    )  # type: ignore[attr-defined]
    page = context.new_page()
    # Chromium logs what the Content-Security-Policy blocks; the event says it too, so that any
    # violation (an inline script, a style attribute, an eval) fails the test that met it.
    page.add_init_script(CSP_WATCH)  # type: ignore[attr-defined]
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.errors = errors
    return page


def _sign_in(page: object, email: str) -> None:
    page.goto("/signin")  # type: ignore[attr-defined]
    page.get_by_label("E-mail").fill(email)  # type: ignore[attr-defined]
    page.get_by_label("Password").fill(PASSWORD)  # type: ignore[attr-defined]
    page.get_by_role("button", name="Sign in").click()  # type: ignore[attr-defined]
    page.wait_for_load_state()  # type: ignore[attr-defined]


def _shot(page: object, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def test_a_rep_works_the_queue_and_a_manager_sees_the_board_change(
    browser: object, server: str, browser_runtime: Runtime
) -> None:
    with browser_runtime.factory() as session:
        org = build_org(session, browser_runtime, leads=3)
    expect = playwright_api.expect
    rep = _page(browser, server)
    _sign_in(rep, EMAILS["member"])
    rep.goto("/queue")
    first = org.leads[-1]  # the most overdue lead comes first
    row = rep.locator(f"#q-{first}")
    expect(rep.locator("tbody tr").first).to_have_attribute("data-lead", str(first))
    _shot(rep, "queue-before")
    for stage in ("Touch 1", "Touch 2", "Touch 3"):
        row.get_by_role("button", name="Called: no answer").click()
        expect(row.locator(".stage")).to_have_text(stage)
    row.get_by_role("button", name="Called: connected").click()
    expect(row.locator(".stage")).to_have_text("Connected")
    row.get_by_role("button", name="Book appointment").click()
    expect(row).to_contain_text("Appointment booked.")
    _shot(rep, "queue-after")
    rep.goto(f"/leads/{first}")
    expect(rep.locator("ol.timeline")).to_contain_text("appointment booked")
    _shot(rep, "lead")
    assert rep.errors == []

    manager = _page(browser, server)
    _sign_in(manager, EMAILS["manager"])
    manager.goto("/board")
    rep_row = manager.locator("#by-stage tr[data-member='rep@firm.test']")
    expect(rep_row.locator("td[data-stage='connected']")).to_have_text("1")
    expect(rep_row.locator("td[data-stage='untouched']")).to_have_text("2")
    _shot(manager, "board-before")
    breach = manager.locator("#breaches tbody tr").first
    lead_id = breach.get_attribute("data-lead")
    breach.get_by_label("To").select_option(label="Member2")
    breach.get_by_label("Reason").fill("rep is overloaded")
    breach.get_by_role("button", name="Reassign").click()
    expect(manager.locator("#messages")).to_contain_text("Reassigned.")
    second_rep = manager.locator("#by-status tr[data-member='rep2@firm.test'] td.total")
    expect(second_rep).to_have_text("1")
    _shot(manager, "board-after")
    manager.locator("select[name=team]").select_option(label="Every team")  # submits on its own
    manager.wait_for_url("**/board?team=0")
    expect(second_rep).to_have_text("1")
    manager.goto(f"/leads/{lead_id}")
    expect(manager.locator("#owner")).to_contain_text("Member2")
    assert manager.errors == []


def test_a_rep_signs_in_and_logs_a_touch_with_the_keyboard_only(
    browser: object, server: str, browser_runtime: Runtime
) -> None:
    with browser_runtime.factory() as session:
        org = build_org(session, browser_runtime, leads=1)
    expect = playwright_api.expect
    page = _page(browser, server)
    page.goto("/signin")
    expect(page.locator("#email")).to_be_focused()  # the form starts at the e-mail
    page.keyboard.type(EMAILS["member"])
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/queue")
    page.keyboard.press("Tab")  # the skip link comes first on every page
    expect(page.locator(".skip")).to_be_focused()
    target = page.locator(f"#q-{org.leads[0]}").get_by_role("button", name="Called: no answer")
    for _ in range(40):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            break
    expect(target).to_be_focused()
    outline = target.evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline == "solid"  # the focus ring is visible
    page.keyboard.press("Enter")
    expect(page.locator(f"#q-{org.leads[0]} .stage")).to_have_text("Touch 1")
    assert page.errors == []


def test_marketing_fixes_a_rule_error_by_its_line_and_applies_it(
    browser: object, server: str, browser_runtime: Runtime
) -> None:
    with browser_runtime.factory() as session:
        build_org(session, browser_runtime, leads=1)
    expect = playwright_api.expect
    page = _page(browser, server)
    _sign_in(page, EMAILS["marketing"])
    page.goto("/rules")
    editor = page.get_by_label("Rules document (YAML)")
    good = editor.input_value()
    line = next(i for i, text in enumerate(good.splitlines(), start=1) if "points:" in text)
    broken = good.splitlines()
    broken[line - 1] = broken[line - 1].split("points:")[0] + "points: lots"
    editor.fill("\n".join(broken) + "\n")
    page.get_by_role("button", name="Check").click()
    problems = page.locator("#rule-problems")
    expect(problems).to_contain_text(f"line {line}")
    _shot(page, "rules-error")
    page.get_by_role("button", name="Apply").click()  # refused: shown again with the same error
    expect(page.locator("#rule-problems")).to_contain_text(f"line {line}")
    fixed = good.replace("points: 10", "points: 12", 1)
    page.get_by_label("Rules document (YAML)").fill(fixed)
    page.get_by_label("What changed and why").fill("downloads count a little more")
    page.get_by_role("button", name="Check").click()
    expect(page.locator("#rule-ok")).to_be_visible()
    expect(page.locator("#check pre.diff")).to_contain_text("points: 12")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#messages")).to_contain_text("Version 2 is now active")
    expect(page.locator("table.grid")).to_contain_text("downloads count a little more")
    _shot(page, "rules-applied")
    refused = (
        "the server responded with a status of 422"  # the draft with errors, refused on purpose
    )
    assert [e for e in page.errors if refused not in e] == []


def test_marketing_imports_a_file_with_its_own_mapping_and_sees_it_finish(
    browser: object, server: str, browser_runtime: Runtime, tmp_path: Path
) -> None:
    with browser_runtime.factory() as session:
        build_org(session, browser_runtime, leads=0)
    data = tmp_path / "expo.csv"
    data.write_text("Mail,Firma\nok@firm.co.jp,株式会社オーケー\nnot-an-email,株式会社エヌジー\n")
    mapping = tmp_path / "expo.yaml"
    mapping.write_text("kind: leads\ncolumns:\n  email: Mail\n  company: Firma\n")
    expect = playwright_api.expect
    page = _page(browser, server)
    _sign_in(page, EMAILS["marketing"])
    page.goto("/import")
    page.get_by_label("File (CSV in UTF-8 or Shift_JIS, or XLSX)").set_input_files(str(data))
    page.get_by_label("Or a mapping file (YAML) instead of a preset").set_input_files(str(mapping))
    page.get_by_role("button", name="Preview (dry run)").click()
    expect(page.locator("#preview")).to_contain_text("1 would be taken, 0 unchanged, 1 rejected")
    _shot(page, "import-preview")
    page.get_by_role("button", name="Import", exact=True).click()
    page.wait_for_url("**/import/progress/**")
    # The import runs on the server's own thread and the page polls it: the bound only keeps a
    # job that would never end from hanging the test, it decides nothing.
    expect(page.locator("#job")).to_contain_text("Done", timeout=60_000)
    expect(page.locator("#job")).to_contain_text("1 taken")
    expect(page.get_by_role("link", name="Download the rejected rows (CSV)")).to_be_visible()
    _shot(page, "import-done")
    assert page.errors == []


def test_every_page_in_both_languages_on_the_demo(
    browser: object, server: str, browser_runtime: Runtime
) -> None:
    from leadops.demo import DEMO_PASSWORD, build_demo, demo_sign_ins

    build_demo(browser_runtime, leads=800)
    with browser_runtime.factory() as session:
        accounts = {role: email for role, email, _ in demo_sign_ins(session)}
    expect = playwright_api.expect
    paths = [
        "/queue",
        "/leads",
        "/leads?stage=touch_1&sort=-score",
        "/leads/1",
        "/board",
        "/reports",
        "/reports/funnel",
        "/reports/cohort",
        "/reports/dwell",
        "/reports/forecast",
        "/reports/pipeline",
        "/rules",
        "/import",
        "/notifications",
        "/settings",
    ]
    for locale in ("en-US", "ja-JP"):
        page = _page(browser, server, locale)
        page.goto("/signin")
        page.locator("#email").fill(accounts["admin"])
        page.locator("#password").fill(DEMO_PASSWORD)
        page.locator("form button[type=submit]").click()
        page.wait_for_load_state()
        switch = page.locator("header form[action='/settings/locale'] button")
        if switch.inner_text() == ("English" if locale == "en-US" else "日本語"):
            switch.click()  # the demo's accounts prefer Japanese; the header switches the language
            page.wait_for_load_state()
        for path in paths:
            page.goto(path)
            expect(page.locator("main h1")).to_be_visible()
            if path.startswith("/reports/"):
                expect(page.locator("#chart svg")).to_be_visible()
                page.locator("#chart").hover()  # ECharts writes its tooltip as HTML
            name = path.strip("/").replace("/", "-").split("?")[0] + (
                "-filtered" if "?" in path else ""
            )
            _shot(page, f"{locale[:2]}-{name}")
        assert page.errors == [], page.errors
        lang = page.locator("html").get_attribute("lang")
        assert lang == locale[:2]


def test_the_browser_enforces_the_content_security_policy(
    browser: object, server: str, browser_runtime: Runtime
) -> None:
    with browser_runtime.factory() as session:
        build_org(session, browser_runtime, leads=1)
    page = _page(browser, server)
    _sign_in(page, EMAILS["manager"])
    page.goto("/board")
    page.goto("/no/such/page")
    page.get_by_role("link", name="Go back").click()  # once javascript:history.back()
    page.wait_for_url("**/board")
    page.goto("/reports/funnel")
    playwright_api.expect(page.locator("#chart svg")).to_be_visible()
    page.locator("#chart").hover()
    assert [e for e in page.errors if "404 (Not Found)" not in e] == []
    injected = page.evaluate(
        """() => {
          const script = document.createElement("script");
          script.textContent = "window.injected = 'script'";
          document.body.append(script);
          const div = document.createElement("div");
          div.innerHTML = `<img src="/static/favicon.svg" onload="window.injected = 'handler'">`;
          document.body.append(div);
          return window.injected || null;
        }"""
    )
    assert injected is None
    page.wait_for_function("() => window.cspViolations.length >= 2")
    violations = page.evaluate("() => window.cspViolations")
    assert any("script-src-elem blocked inline" in v for v in violations), violations
    assert any("script-src-attr blocked inline" in v for v in violations), violations
    assert page.evaluate("() => window.injected || null") is None
