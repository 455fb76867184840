"""Which preset a file's headers fit, when no mapping is given.

Each candidate (``default``, then every preset of the kind) is scored on the file's header:

1. how many of the file's columns it reads by the headers it declares (a preset's columns found
   only by a field's own name, such as ``email``, do not count: every preset has them);
2. then how many of those no other candidate reads (its *own* headers: ``Record ID`` is
   HubSpot's, ``Lead Owner`` Salesforce's, ``e-mail`` and ``TEL会社`` Eight's);
3. then the general ones first: ``default``, then ``japanese`` (a list of no particular system is
   read by them when no vendor's preset reads more of it).

The best wins. Two vendors' presets with the same score are a question for the user
(``Unrecognised`` lists them); so is a file whose headers no candidate reads.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from leadops.ingest.mappings import Mapping, MappingError, default_mapping, preset, presets_for

#: How many headers an error or a note lists before it says "and N more".
SHOWN = 12


class Unrecognised(MappingError):
    """No preset fits the file's headers, or two fit them equally (``candidates``)."""

    def __init__(
        self,
        message: str,
        *,
        columns: list[str],
        candidates: tuple[str, ...] = (),
        source: str | None,
    ) -> None:
        super().__init__(message, source=source)
        self.columns, self.candidates = columns, candidates


@dataclass(frozen=True)
class Fit:
    mapping: Mapping
    #: The file's columns the candidate reads by the headers it declares.
    read: tuple[str, ...]
    #: How many of them no other candidate reads.
    own: int

    @property
    def name(self) -> str:
        return self.mapping.name

    @property
    def score(self) -> tuple[int, int, int]:
        general = 2 if self.name == "default" else 1 if self.mapping.general else 0
        return (len(self.read), self.own, general)


@dataclass(frozen=True)
class Recognition:
    """The mapping chosen for a file, and how well each candidate fitted (best first)."""

    mapping: Mapping
    columns: tuple[str, ...]
    fits: tuple[Fit, ...]

    def note(self) -> str:
        best = self.fits[0]
        own = f", {best.own} of them its own" if best.own else ""
        return (
            f"recognised as {best.name}: it reads {len(best.read)} of the file's "
            f"{len(self.columns)} columns{own}"
        )


def shown(names: list[str] | tuple[str, ...]) -> str:
    """Names in a message: the first few, and how many more."""
    listed = ", ".join(names[:SHOWN])
    return listed + (f" and {len(names) - SHOWN} more" if len(names) > SHOWN else "")


def candidates(kind: str) -> list[Mapping]:
    return [default_mapping(kind), *(preset(name, kind) for name in presets_for(kind))]


def fits(columns: list[str], kind: str) -> list[Fit]:
    """Every candidate's fit, best first."""
    reads = [(m, m.plan(columns, declared_only=True).used) for m in candidates(kind)]
    readers = Counter(column for _, read in reads for column in read)
    scored = [
        Fit(m, tuple(c for c in columns if c in read), sum(readers[c] == 1 for c in read))
        for m, read in reads
    ]
    return sorted(scored, key=lambda f: f.score, reverse=True)


def recognise(columns: list[str], kind: str, *, source: str | None = None) -> Recognition:
    """The mapping a file's headers fit; ``Unrecognised`` when none does or two do equally."""
    ranked = fits(columns, kind)
    best = ranked[0]
    if not best.read:
        raise Unrecognised(
            f"no preset recognises the headers ({shown(columns) or 'none'}); name the columns "
            "with a mapping file (columns: {email: …, company: …}) or rename them like leadops's "
            "fields (email, company, last_name …)",
            columns=columns,
            source=source,
        )
    tied = tuple(f.name for f in ranked if f.score == best.score)
    if len(tied) > 1:
        raise Unrecognised(
            f"the headers fit {' and '.join(tied)} equally (each reads {len(best.read)} of the "
            f"{len(columns)} columns: {shown(best.read)}); choose one of them as the mapping",
            columns=columns,
            candidates=tied,
            source=source,
        )
    return Recognition(best.mapping, tuple(columns), tuple(ranked))


def unread(mapping: Mapping, columns: list[str]) -> list[str]:
    """The columns a mapping does not read: kept as custom fields (or properties)."""
    used = mapping.plan(columns).used
    return [c for c in columns if c not in used]
