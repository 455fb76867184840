"""Column mappings: presets, mapping documents, and how either reads a file's columns."""

from leadops.ingest.mappings.documents import load_mapping_file, mapping_from_text, resolve_mapping
from leadops.ingest.mappings.model import (
    DATE_FIELDS,
    EMPTY,
    FIELDS,
    KINDS,
    Mapping,
    MappingError,
    Plan,
    all_presets,
    default_mapping,
    preset,
    presets_for,
)

__all__ = [
    "DATE_FIELDS",
    "EMPTY",
    "FIELDS",
    "KINDS",
    "Mapping",
    "MappingError",
    "Plan",
    "all_presets",
    "default_mapping",
    "load_mapping_file",
    "mapping_from_text",
    "preset",
    "presets_for",
    "resolve_mapping",
]
