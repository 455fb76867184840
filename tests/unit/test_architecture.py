"""The architecture, checked on the source: one door for a lead's state, and no imports hidden in
functions to dodge a cycle (the layers themselves are import-linter's contract in pyproject.toml,
run by ``make lint``)."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from leadops.lifecycle.machine import KINDS
from leadops.models.leads import STATE_COLUMNS

SRC = Path(__file__).resolve().parents[2] / "src" / "leadops"
DOOR = SRC / "lifecycle"
#: Where the leads and lead_events tables are defined.
MODELS = "models/leads.py"
#: Attributes of other tables that share a name with a lead's state: (module, expression, why).
OTHER_TABLES = {
    ("auth.py", "user.team_id"): "a user's team",
    ("routing/org.py", "user.team_id"): "a user's team",
    ("ingest/members.py", "member.status"): "a campaign member's status",
    ("ingest/lead_input.py", "out.status"): "the validated input (LeadInput), not the lead",
    ("ingest/lead_input.py", "out.status_reason"): "the validated input (LeadInput), not the lead",
    ("ingest/deals.py", "opp.owner_id"): "an opportunity's owner",
    ("cadence/opportunities.py", "opp.owner_id"): "an opportunity's owner",
    ("demo/simulate.py", "person.level"): "the demo's generated person",
    ("reports/forecast.py", "t.assigned_at"): "a lead's timeline replayed by the forecast",
}
#: Calls that construct other rows whose columns share a name with a lead's state.
OTHER_ROWS = {"User", "CampaignMember", "Opportunity", "ToRoute", "LeadFilter", "render"}
RAW_SQL = re.compile(r"\b(update\s+leads\b|into\s+lead_events\b)", re.IGNORECASE)


@dataclass(frozen=True)
class Finding:
    module: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line}: {self.what}"


def _targets(node: ast.AST) -> list[ast.expr]:
    if isinstance(node, ast.Assign):
        found = list(node.targets)
    elif isinstance(node, ast.AugAssign | ast.AnnAssign):
        found = [node.target]
    else:
        return []
    out: list[ast.expr] = []
    for target in found:
        out += list(target.elts) if isinstance(target, ast.Tuple | ast.List) else [target]
    return out


def _is_leads_table(node: ast.expr, lead_tables: set[str]) -> bool:
    text = ast.unparse(node)
    return text in ("Lead", "table_of(Lead)") or text in lead_tables


def _update_of_leads(call: ast.Call, lead_tables: set[str]) -> bool:
    """``update(Lead)…`` or ``update(table_of(Lead))…`` anywhere in a call chain."""
    node: ast.expr = call
    while True:
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id == "update" and node.args:
                return _is_leads_table(node.args[0], lead_tables)
            node = func
        elif isinstance(node, ast.Attribute):
            node = node.value
        else:
            return False


def _values_ok(call: ast.Call) -> bool:
    """A ``.values(...)`` that names only literal columns, none of them the lead's state."""
    if call.args:
        only = call.args[0]
        if len(call.args) > 1 or not isinstance(only, ast.Dict):
            return False
        keys = [k.value if isinstance(k, ast.Constant) else None for k in only.keys]
        return all(isinstance(k, str) and k not in STATE_COLUMNS for k in keys)
    return all(k.arg is not None and k.arg not in STATE_COLUMNS for k in call.keywords)


def door_violations(source: str, module: str) -> list[Finding]:
    """Every place in ``source`` that writes a lead's state or its events outside the door."""
    tree = ast.parse(source)
    lead_tables = {
        ast.unparse(t)
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and ast.unparse(node.value) == "table_of(Lead)"
        for t in node.targets
    }
    found: list[Finding] = []

    def flag(node: ast.AST, what: str) -> None:
        found.append(Finding(module, getattr(node, "lineno", 0), what))

    for node in ast.walk(tree):
        for target in _targets(node):
            if isinstance(target, ast.Attribute) and target.attr in STATE_COLUMNS:
                if (module, ast.unparse(target)) not in OTHER_TABLES:
                    flag(node, f"assigns {ast.unparse(target)}")
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and module != MODELS:
            if RAW_SQL.search(node.value):
                flag(node, f"SQL that writes leads or their events: {node.value[:60]!r}")
            if node.value == "lead_events":
                flag(node, "names the lead_events table (its rows are the door's to write)")
        if not isinstance(node, ast.Call):
            continue
        name = ast.unparse(node.func)
        if name in ("LeadEvent", "models.LeadEvent"):
            flag(node, "builds a LeadEvent")
        if name == "setattr" and len(node.args) >= 2:
            # A name computed at run time cannot be checked here; the lead's state attributes
            # refuse ORM writes at run time (``models.leads``).
            attribute = node.args[1]
            if isinstance(attribute, ast.Constant) and attribute.value in STATE_COLUMNS:
                flag(node, f"setattr with {ast.unparse(attribute)}")
        keywords = {k.arg for k in node.keywords} & STATE_COLUMNS
        if keywords and name.split(".")[-1] not in OTHER_ROWS | {"values"}:
            flag(node, f"{name}(…) sets {', '.join(sorted(keywords))}")
        if name.endswith(".values") and _update_of_leads(node, lead_tables):
            if not _values_ok(node):
                flag(node, "an UPDATE of leads that may set its state")
    return found


def _modules() -> list[tuple[str, Path]]:
    return [
        (path.relative_to(SRC).as_posix(), path)
        for path in sorted(SRC.rglob("*.py"))
        if DOOR not in path.parents and "migrations" not in path.parts
    ]


def test_only_the_door_changes_a_lead_s_state() -> None:
    found = [
        str(finding)
        for module, path in _modules()
        for finding in door_violations(path.read_text(encoding="utf-8"), module)
    ]
    assert found == [], "lead state written outside leadops.lifecycle:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "code",
    [
        "lead.status = 'recycled'",
        "lead.owner_id, lead.team_id = 1, 2",
        "setattr(lead, 'level', 4)",
        "Lead(email='a@b.jp', status='lead')",
        "session.add(LeadEvent(lead_id=1, kind='status'))",
        "session.execute(update(Lead).where(Lead.id == 1).values(status='lead'))",
        "t = table_of(Lead)\nsession.execute(update(t).values({c: bindparam(c) for c in cols}))",
        "conn.exec_driver_sql('UPDATE leads SET owner_id = 1')",
        "insert_plain(session, 'lead_events', COLUMNS, rows)",
    ],
)
def test_the_door_check_catches_a_write_of_state(code: str) -> None:
    assert door_violations(code, "somewhere.py"), code


def test_the_door_check_lets_other_columns_and_tables_be() -> None:
    code = (
        "session.execute(update(Lead).where(Lead.id == 1).values(next_due_at=None))\n"
        "lead.phone = '06-1234-5678'\n"
        "user = User(email='a@b.jp', team_id=3)\n"
        "session.execute(update(Task).values(owner_id=2))\n"
    )
    assert door_violations(code, "somewhere.py") == []


def function_level_imports(source: str) -> list[int]:
    """Lines of ``import leadops…`` inside a function."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for inner in ast.walk(node):
                if isinstance(inner, ast.ImportFrom) and (inner.module or "").startswith("leadops"):
                    lines.append(inner.lineno)
                elif isinstance(inner, ast.Import):
                    names = [a.name for a in inner.names if a.name.startswith("leadops")]
                    lines += [inner.lineno] if names else []
    return lines


def test_no_function_imports_a_leadops_module() -> None:
    """An import inside a function would hide a cycle from the layers contract. The CLI is the
    exception: it is the top layer (nothing imports it, so it cannot close a cycle) and imports a
    command's services only when that command runs, so that ``leadops --help`` starts fast."""
    found = [
        f"{module}:{line}"
        for module, path in _modules()
        if module != "cli.py"
        for line in function_level_imports(path.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_the_import_check_catches_one() -> None:
    assert function_level_imports("def f():\n    from leadops.routing import service\n") == [2]


def test_every_kind_of_state_is_a_column_only_the_door_writes() -> None:
    assert set(KINDS.values()) <= STATE_COLUMNS
