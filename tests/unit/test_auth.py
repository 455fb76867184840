"""Passwords are kept as Argon2id hashes and checked against them; nothing else is accepted."""

from __future__ import annotations

from leadops.auth import hash_password, needs_rehash, verify_password


def test_a_password_is_stored_as_a_salted_argon2id_hash() -> None:
    first, second = hash_password("correct horse battery"), hash_password("correct horse battery")
    assert first.startswith("$argon2id$")
    assert "correct horse battery" not in first
    assert first != second  # each hash has its own salt
    assert verify_password(first, "correct horse battery")
    assert verify_password(second, "correct horse battery")
    assert not needs_rehash(first)


def test_a_wrong_password_a_missing_hash_or_an_unreadable_one_do_not_sign_in() -> None:
    stored = hash_password("correct horse battery")
    assert not verify_password(stored, "correct horse batterz")
    assert not verify_password(stored, "")
    assert not verify_password(None, "correct horse battery")
    assert not verify_password("", "correct horse battery")
    assert not verify_password("plain-text-password", "plain-text-password")
