"""The project configuration (`segwise.yml`, docs/language.md) as validated, immutable objects."""

from __future__ import annotations

from dataclasses import dataclass, field

from segwise.rules.nodes import Group, Segment
from segwise.rules.values import Duration, Location, ValueType


@dataclass(frozen=True)
class Ref:
    """`ref('name')`: a dbt model or seed of the project."""

    name: str


@dataclass(frozen=True)
class SourceRef:
    """`source('source_name', 'table_name')`."""

    source: str
    table: str


@dataclass(frozen=True)
class TableName:
    """`schema.table` or `database.schema.table`, or a bare `table`."""

    parts: tuple[str, ...]


Relation = Ref | SourceRef | TableName


@dataclass(frozen=True)
class Trait:
    name: str
    type: ValueType
    column: str


# Always available (docs/language.md, 'Traits'), computed from the events.
BUILTIN_TRAITS: dict[str, ValueType] = {
    "first_seen_at": ValueType.TIMESTAMP,
    "last_seen_at": ValueType.TIMESTAMP,
    "event_count": ValueType.NUMBER,
}


@dataclass(frozen=True)
class Geo:
    lat: str  # trait names
    lon: str


@dataclass(frozen=True)
class UsersSource:
    relation: Relation
    id: str
    traits: dict[str, Trait]
    updated_at: str | None = None
    geo: Geo | None = None


@dataclass(frozen=True)
class JsonProperties:
    """Properties in one JSON column; undeclared properties are strings."""

    column: str
    types: dict[str, ValueType] = field(default_factory=dict)


@dataclass(frozen=True)
class FlatProperties:
    """One column per property: `columns: {property: column}`; only these exist."""

    columns: dict[str, str]
    types: dict[str, ValueType] = field(default_factory=dict)


Properties = JsonProperties | FlatProperties


@dataclass(frozen=True)
class EventsSource:
    relation: Relation
    user_id: str
    name: str
    timestamp: str
    loaded_at: str | None = None
    id: str | None = None
    properties: Properties | None = None

    def property_type(self, name: str) -> ValueType | None:
        """The declared type of a property; None when the property cannot exist."""
        props = self.properties
        if props is None:
            return None
        if isinstance(props, FlatProperties) and name not in props.columns:
            return None
        return props.types.get(name, ValueType.STRING)

    def known_properties(self) -> list[str]:
        props = self.properties
        if props is None:
            return []
        if isinstance(props, FlatProperties):
            return sorted(props.columns)
        return sorted(props.types)


@dataclass(frozen=True)
class RfmConfig:
    event: str
    monetary: str  # an event property (number)
    within: Duration


@dataclass(frozen=True)
class BgNbdConfig:
    """The BG/NBD model's inputs (docs/language.md, 'Predictions'): each user's purchases are
    the `event` events, merged per calendar day, counted in `unit`s, within `calibration` of T
    (all history when None)."""

    event: str
    unit: Duration = Duration(7 * 86400)
    calibration: Duration | None = None


@dataclass(frozen=True)
class PredictConfig:
    bgnbd: BgNbdConfig | None = None


@dataclass(frozen=True)
class Config:
    users: UsersSource
    events: EventsSource
    segments_path: str = "segments"
    models_path: str = "models/segwise"
    rfm: RfmConfig | None = None
    path: str = "segwise.yml"
    model_prefix: str = ""  # generated dbt model names start with it
    predict: PredictConfig | None = None

    def trait_type(self, name: str) -> ValueType | None:
        if name in BUILTIN_TRAITS:
            return BUILTIN_TRAITS[name]
        trait = self.users.traits.get(name)
        return trait.type if trait else None

    def trait_names(self) -> list[str]:
        return sorted({*self.users.traits, *BUILTIN_TRAITS})


@dataclass(frozen=True)
class Project:
    """A valid configuration with its segments (by name) and groups."""

    config: Config
    segments: dict[str, Segment]
    groups: dict[str, Group] = field(default_factory=dict)
    root: str = "."
    locations: dict[str, Location] = field(default_factory=dict)
