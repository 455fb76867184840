"""Matching leads to accounts: by e-mail domain (free-mail excluded), then by normalized name."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from leadops.ingest.context import IngestContext
from leadops.ingest.prefectures import region_of
from leadops.models import Account
from leadops.normalize import email_domain, is_free_mail, normalize_company, normalize_domain


@dataclass
class CompanyFacts:
    name: str | None = None
    domain: str | None = None
    employees: int | None = None
    industry: str | None = None
    prefecture: str | None = None


def company_domain(email: str | None, domain: str | None) -> str | None:
    """The company's domain: given explicitly, else the e-mail's unless it is a free-mail domain."""
    if domain:
        found = normalize_domain(domain)
        return None if is_free_mail(found) else found
    if email and not is_free_mail(email):
        return email_domain(email)
    return None


class AccountResolver:
    """Finds or creates the account of each lead, caching lookups for one ingestion run."""

    def __init__(self, ctx: IngestContext) -> None:
        self.ctx = ctx
        self.by_domain: dict[str, Account] = {}
        self.by_name: dict[str, Account] = {}
        #: Domains and names a preload looked for and did not find.
        self.absent_domains: set[str] = set()
        self.absent_names: set[str] = set()

    def preload(self, domains: set[str], names: set[str]) -> None:
        session = self.ctx.session
        wanted = [d for d in domains if d not in self.by_domain]
        for start in range(0, len(wanted), 500):
            for account in session.scalars(
                select(Account).where(Account.domain.in_(wanted[start : start + 500]))
            ):
                self._remember(account)
        self.absent_domains.update(d for d in wanted if d not in self.by_domain)
        wanted = [n for n in names if n not in self.by_name]
        for start in range(0, len(wanted), 500):
            stmt = select(Account).where(Account.normalized_name.in_(wanted[start : start + 500]))
            for account in session.scalars(stmt.order_by(Account.id)):
                self.by_name.setdefault(account.normalized_name, account)
        self.absent_names.update(n for n in wanted if n not in self.by_name)

    def _remember(self, account: Account) -> None:
        if account.domain:
            self.by_domain[account.domain] = account
            self.absent_domains.discard(account.domain)
        self.by_name.setdefault(account.normalized_name, account)
        self.absent_names.discard(account.normalized_name)

    def resolve(self, facts: CompanyFacts, email: str | None) -> Account | None:
        domain = company_domain(email, facts.domain)
        key = normalize_company(facts.name) if facts.name else None
        account = None
        if domain:
            account = self.by_domain.get(domain)
            if account is None and domain not in self.absent_domains:
                account = self.ctx.session.scalar(select(Account).where(Account.domain == domain))
            if account is None and key:
                # A company first seen without a domain (a free-mail lead) takes this one.
                named = self._by_name(key)
                if named is not None and named.domain is None:
                    account = named
                    account.domain = domain
        elif key:
            account = self._by_name(key)
        if account is None:
            if not (domain or key):
                return None
            account = Account(
                name=facts.name or domain or "",
                normalized_name=key or domain or "",
                domain=domain,
                custom={},
                created_at=self.ctx.now,
            )
            self.ctx.session.add(account)
        self._fill(account, facts)
        self._remember(account)
        return account

    def _by_name(self, key: str) -> Account | None:
        if key in self.by_name:
            return self.by_name[key]
        if key in self.absent_names:
            return None
        stmt = select(Account).where(Account.normalized_name == key).order_by(Account.id).limit(1)
        return self.ctx.session.scalar(stmt)

    def _fill(self, account: Account, facts: CompanyFacts) -> None:
        """Newer facts fill what the account lacks; a known value is updated only by a new one."""
        if facts.employees is not None:
            account.employees = facts.employees
        if facts.industry:
            account.industry = facts.industry
        if facts.prefecture and not account.prefecture:
            account.prefecture = facts.prefecture
            account.region = region_of(facts.prefecture, self.ctx.region_map)
        if facts.name and (not account.name or account.name == account.domain):
            account.name = facts.name
