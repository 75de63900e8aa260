"""The rule language: typed, immutable AST nodes (see SPEC §3)."""
