"""The rules document: schema, loader with line-numbered errors, conditions, versions."""
