"""segwise: warehouse-native user segments compiled to SQL with sqlglot and kept by dbt."""

__version__ = "0.1.0"
