"""Ids in URL paths. A route whose id is a UUID matches only strings that parse as one, so a
malformed id is the resolver's 404 and never reaches a lookup (where it would raise)."""

# 32 hex digits, in the usual 8-4-4-4-12 groups with or without the dashes: every match parses
# with uuid.UUID.
UUID_PATTERN = "[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
