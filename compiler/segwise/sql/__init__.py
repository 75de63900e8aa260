"""SQL compilation: rule ASTs to sqlglot expressions, one dialect at a time."""
