"""The dbt layer: generated models and the Jinja they rely on (macros/ holds the rest)."""
