"""The rule language: typed, immutable AST nodes (see docs/language.md)."""
