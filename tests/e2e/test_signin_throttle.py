"""Failed sign-ins are throttled per account and per client address: over the limit the sign-in
page answers 429 with Retry-After, in the user's language, even for the right password, until the
window has passed; an unknown e-mail is treated exactly like a real one."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from leadops import auth
from leadops.clock import FixedClock
from leadops.models import SignInFailure
from leadops.runtime import Runtime
from leadops.web.app import create_app
from tests.webapp import EMAILS, PASSWORD, build_org, sign_in_form

WRONG = "not the password"


def browser(runtime: Runtime, *, address: str = "198.51.100.7", lang: str = "en") -> TestClient:
    return TestClient(
        create_app(runtime),
        follow_redirects=False,
        client=(address, 50000),
        headers={"Accept-Language": lang},
    )


def attempt(client: TestClient, email: str, password: str) -> Any:
    page = client.get("/signin")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text
    form = {"email": email, "password": password, "csrf_token": match.group(1), "next": "/"}
    return client.post("/signin", data=form)


def allow(runtime: Runtime, *, per_account: int = 10, per_address: int = 30) -> None:
    """Lower limits than the defaults, so that a test needs fewer attempts (each verifies an
    Argon2 hash, a deliberately slow thing)."""
    runtime.settings = runtime.settings.model_copy(
        update={
            "signin_failures_per_account": per_account,
            "signin_failures_per_address": per_address,
        }
    )


def fail(client: TestClient, email: str, times: int) -> None:
    for _ in range(times):
        assert attempt(client, email, WRONG).status_code == 401


def test_ten_failures_refuse_even_the_right_password_until_the_window_has_passed(
    runtime: Runtime, session: Any, clock: FixedClock
) -> None:
    build_org(session, runtime)
    client = browser(runtime)
    fail(client, EMAILS["member"], 10)
    refused = attempt(client, EMAILS["member"], PASSWORD)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "900"
    assert "Too many failed sign-ins. Try again in 15 min." in refused.text
    assert "leadops_session" not in refused.headers.get("set-cookie", "")
    clock.advance(timedelta(minutes=14, seconds=30))
    still = attempt(client, EMAILS["member"], PASSWORD)
    assert (still.status_code, still.headers["retry-after"]) == (429, "30")
    assert "Try again in 1 min." in still.text
    clock.advance(timedelta(seconds=30))
    assert sign_in_form(client, EMAILS["member"], PASSWORD) == (303, "/")


def test_the_refusal_is_in_the_users_language(runtime: Runtime, session: Any) -> None:
    build_org(session, runtime)
    allow(runtime, per_account=2)
    client = browser(runtime, lang="ja")
    fail(client, EMAILS["member"], 2)
    refused = attempt(client, EMAILS["member"], WRONG)
    assert refused.status_code == 429
    assert "ログインの失敗が続いたため" in refused.text
    assert "15 分後に" in refused.text


def test_an_unknown_email_is_throttled_like_an_account(runtime: Runtime, session: Any) -> None:
    build_org(session, runtime)
    allow(runtime, per_account=3)
    client = browser(runtime)
    answers = {}
    for email in (EMAILS["member"], "nobody@firm.test"):
        answers[email] = [attempt(client, email, WRONG) for _ in range(4)]
    member, nobody = answers[EMAILS["member"]], answers["nobody@firm.test"]
    assert [a.status_code for a in member] == [a.status_code for a in nobody] == [401] * 3 + [429]
    assert member[-1].headers["retry-after"] == nobody[-1].headers["retry-after"] == "900"
    assert member[0].text.count("Wrong e-mail or password.") == 1
    assert nobody[0].text.count("Wrong e-mail or password.") == 1


def test_a_right_password_clears_the_accounts_failures(runtime: Runtime, session: Any) -> None:
    build_org(session, runtime)
    allow(runtime, per_account=3)
    client = browser(runtime)
    fail(client, EMAILS["member"], 2)
    assert attempt(client, EMAILS["member"], PASSWORD).status_code == 303
    fail(client, EMAILS["member"], 3)  # a fresh count of three
    assert attempt(client, EMAILS["member"], WRONG).status_code == 429


def test_failures_from_one_address_throttle_every_account_from_it(
    runtime: Runtime, session: Any
) -> None:
    build_org(session, runtime)
    allow(runtime, per_address=3)
    guesser = browser(runtime, address="203.0.113.9")
    for number in range(3):  # each e-mail once, far below the account's limit
        assert attempt(guesser, f"guess{number}@firm.test", WRONG).status_code == 401
    refused = attempt(guesser, EMAILS["member"], PASSWORD)
    assert (refused.status_code, refused.headers["retry-after"]) == (429, "900")
    elsewhere = browser(runtime, address="198.51.100.20")
    assert attempt(elsewhere, EMAILS["member"], PASSWORD).status_code == 303


def test_every_attempt_costs_one_password_verification(
    runtime: Runtime, session: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The time of an answer tells nothing: an unknown e-mail, a wrong password, a throttled
    attempt and the right password each verify one Argon2 hash."""
    build_org(session, runtime)
    allow(runtime, per_account=2)
    client = browser(runtime)
    fail(client, EMAILS["member2"], 2)
    verified: list[str] = []
    real = auth.verify_password

    def counting(stored: str | None, password: str) -> bool:
        verified.append(password)
        return real(stored, password)

    monkeypatch.setattr(auth, "verify_password", counting)
    cases = [
        ("nobody@firm.test", WRONG, 401),
        (EMAILS["member"], WRONG, 401),
        (EMAILS["member2"], PASSWORD, 429),
        (EMAILS["member"], PASSWORD, 303),
    ]
    for email, password, status in cases:
        verified.clear()
        assert attempt(client, email, password).status_code == status, email
        assert verified == [password], email


def test_failures_older_than_the_window_are_pruned_as_new_ones_come(
    runtime: Runtime, session: Any, clock: FixedClock
) -> None:
    build_org(session, runtime)
    client = browser(runtime)
    fail(client, EMAILS["member"], 2)
    fail(client, "nobody@firm.test", 1)
    clock.advance(timedelta(minutes=16))
    fail(client, EMAILS["manager"], 1)
    with runtime.factory() as check:
        assert check.scalar(select(func.count()).select_from(SignInFailure)) == 1
        stored = check.scalars(select(SignInFailure.account)).all()
    assert all(re.fullmatch(r"[0-9a-f]{64}", key) for key in stored)  # no e-mail kept
