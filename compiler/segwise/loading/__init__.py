"""Loading and validation: YAML files -> a valid Config, segments and groups, or every error.

project = load_project(Path("segwise.yml"))   # raises ValidationError listing all problems
"""

from segwise.loading.config_loader import load_config
from segwise.loading.project import load_project, parse_segments_text

__all__ = ["load_config", "load_project", "parse_segments_text"]
