"""Owners as imports give them: an e-mail, an id from another system, or a display name.

A reference is matched to a user by e-mail, then by external reference, then by name as written,
then by name as a person's name (``matching.person_key``: full- or half-width, 姓名 with or without
a space, Latin names in either order). A name two users share matches neither. A reference no user
has is created as an inactive user when the mapping asks (``create_users``), else reported.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select

from leadops.ingest.context import IngestContext
from leadops.matching import person_key
from leadops.models import User, column_length
from leadops.normalize import normalize_email

NAME_LENGTH = column_length(User.name)


@dataclass
class OwnerMatch:
    user: User | None
    #: Why there is no user, or that one was created: (flag, message); None for a plain match.
    flag: tuple[str, str] | None = None


class OwnerResolver:
    """Finds (or creates) the users that owner references name, caching them for one batch."""

    def __init__(self, ctx: IngestContext, *, create_users: bool = False) -> None:
        self.ctx = ctx
        self.create_users = create_users
        self.matches: dict[str, OwnerMatch] = {}
        self._by_person: dict[str, list[User]] | None = None

    def resolve(self, ref: str) -> OwnerMatch:
        if ref not in self.matches:
            self.matches[ref] = self._match(ref)
        match = self.matches[ref]
        if match.flag is not None and match.flag[0] == "created_owner":
            # Reported once, where the user was created; later rows simply find it.
            self.matches[ref] = OwnerMatch(match.user)
        return match

    def _match(self, ref: str) -> OwnerMatch:
        user = self._exact(ref)
        if user is not None:
            return OwnerMatch(user)
        key = person_key(ref)
        same = self._people().get(key, []) if key else []
        if len(same) == 1:
            return OwnerMatch(same[0])
        if same:
            names = ", ".join(f"{u.name} (id {u.id})" for u in same)
            message = f"owner {ref!r} could be any of {names}; lead left unassigned"
            return OwnerMatch(None, ("ambiguous_owner", message))
        if self.create_users and len(ref) <= NAME_LENGTH:
            return OwnerMatch(
                self._create(ref),
                ("created_owner", f"owner {ref!r} was not a leadops user; created, inactive"),
            )
        message = f"owner {ref!r} is not a leadops user; lead left unassigned"
        return OwnerMatch(None, ("unknown_owner", message))

    def _exact(self, ref: str) -> User | None:
        try:
            email = normalize_email(ref) if "@" in ref else None
        except ValueError:
            email = None
        candidates = [User.external_ref == ref, User.name == ref]
        if email is not None:
            candidates.insert(0, User.email == email)
        users = self.ctx.session.scalars(select(User).where(or_(*candidates)).order_by(User.id))
        found = list(users)
        for test in (
            lambda u: email is not None and u.email == email,
            lambda u: u.external_ref == ref,
            lambda u: u.name == ref,
        ):
            for user in found:
                if test(user):
                    return user
        return None

    def _people(self) -> dict[str, list[User]]:
        if self._by_person is None:
            self._by_person = {}
            for user in self.ctx.session.scalars(select(User).order_by(User.id)):
                self._index(user)
        return self._by_person

    def _index(self, user: User) -> None:
        key = person_key(user.name)
        if key is not None and self._by_person is not None:
            self._by_person.setdefault(key, []).append(user)

    def _create(self, ref: str) -> User:
        try:
            email = normalize_email(ref) if "@" in ref else None
        except ValueError:
            email = None
        user = User(
            email=email,
            name=ref,
            role="member",
            active=False,
            routing_weight=1.0,
            locale="ja",
            created_at=self.ctx.now,
        )
        self.ctx.session.add(user)
        self.ctx.session.flush()
        self._index(user)
        return user
