"""`segwise.yml` -> Config (docs/language.md, '`segwise.yml`'), reporting every mistake of the file at once."""

from __future__ import annotations

import re
from pathlib import Path

from segwise.config import (
    BUILTIN_TRAITS,
    BgNbdConfig,
    Config,
    EventsSource,
    FlatProperties,
    Geo,
    JsonProperties,
    PredictConfig,
    Properties,
    Relation,
    RfmConfig,
    Trait,
    UsersSource,
)
from segwise.errors import ValidationError, did_you_mean
from segwise.loading.durations import parse_duration
from segwise.loading.reader import (
    IDENTIFIER_RE,
    NAME_HELP,
    NAME_RE,
    Reporter,
    as_map,
    as_name,
    as_str,
    check_keys,
    closest,
    describe,
    require,
)
from segwise.loading.relations import parse_relation
from segwise.loading.yaml_source import YMap, YNode, YScalar, read_yaml_file
from segwise.rules.values import Duration, ValueType

# Generated model names start with it (tables keep their own names through dbt aliases),
# so two projects' generated models can live in one dbt graph (the demo inside a package).
MODEL_PREFIX_RE = re.compile(r"^[a-z][a-z0-9_]{0,30}$")
CONFIG_KEYS = ("segments_path", "models_path", "model_prefix", "sources", "rfm", "predict")
SOURCES_KEYS = ("users", "events")
USERS_KEYS = ("relation", "id", "updated_at", "traits", "geo")
EVENTS_KEYS = ("relation", "user_id", "name", "timestamp", "loaded_at", "id", "properties")
TRAIT_KEYS = ("type", "column")
GEO_KEYS = ("lat", "lon")
PROPERTIES_KEYS = ("column", "columns", "types")
RFM_KEYS = ("event", "monetary", "within")
PREDICT_KEYS = ("bgnbd",)
BGNBD_KEYS = ("event", "unit", "calibration")
TYPE_NAMES = tuple(type_.value for type_ in ValueType)


def load_config(path: Path) -> Config:
    """Read and validate `segwise.yml`; raise ValidationError listing every problem."""
    return read_config(path)[0]


def read_config(path: Path) -> tuple[Config, YMap]:
    """`load_config`, plus the YAML it came from (to place later errors on its keys)."""
    file = str(path)
    root, diagnostics = read_yaml_file(path, file)
    r = Reporter(file)
    r.diagnostics.extend(diagnostics)
    config = parse_config(r, root) if not diagnostics else None
    if r.diagnostics or config is None or not isinstance(root, YMap):
        raise ValidationError(r.diagnostics)
    return config, root


def parse_config(r: Reporter, root: YNode | None) -> Config | None:
    if root is None:
        r.error(YScalar(None, "", 1, 1), "the config is empty: it needs sources.users and sources.events")
        return None
    m = as_map(r, root, "the config")
    if m is None:
        return None
    check_keys(r, m, CONFIG_KEYS, "the config")
    segments_path = _path(r, m, "segments_path", "segments")
    models_path = _path(r, m, "models_path", "models/segwise")
    prefix_node = m.get("model_prefix")
    model_prefix = "" if prefix_node is None else as_name(r, prefix_node, "model_prefix", MODEL_PREFIX_RE)
    sources = require(r, m, "sources", "the config")
    users = events = None
    if sources is not None and (sources_map := as_map(r, sources, "sources")) is not None:
        check_keys(r, sources_map, SOURCES_KEYS, "sources")
        users_node = require(r, sources_map, "users", "sources")
        events_node = require(r, sources_map, "events", "sources")
        users = _users(r, users_node) if users_node is not None else None
        events = _events(r, events_node) if events_node is not None else None
    rfm_node = m.get("rfm")
    rfm = _rfm(r, rfm_node, events) if rfm_node is not None else None
    if users is None or events is None or segments_path is None or models_path is None or model_prefix is None:
        return None
    predict_node = m.get("predict")
    predict = _predict(r, predict_node) if predict_node is not None else None
    if rfm_node is not None and rfm is None:
        return None
    if predict_node is not None and predict is None:
        return None
    return Config(
        users, events, segments_path, models_path, rfm, path=r.file, model_prefix=model_prefix, predict=predict
    )


def _path(r: Reporter, m: YMap, key: str, default: str) -> str | None:
    node = m.get(key)
    return default if node is None else as_str(r, node, key)


def _relation(r: Reporter, m: YMap, what: str) -> Relation | None:
    node = require(r, m, "relation", what)
    text = as_str(r, node, f"{what}.relation") if node is not None else None
    if node is None or text is None:
        return None
    try:
        return parse_relation(text)
    except ValueError as exc:
        r.error(node, str(exc))
        return None


def _column(r: Reporter, m: YMap, key: str, what: str, *, required: bool) -> str | None:
    node = require(r, m, key, what) if required else m.get(key)
    return None if node is None else as_name(r, node, f"column {what}.{key}", IDENTIFIER_RE)


def _users(r: Reporter, node: YNode) -> UsersSource | None:
    m = as_map(r, node, "sources.users")
    if m is None:
        return None
    check_keys(r, m, USERS_KEYS, "sources.users")
    relation = _relation(r, m, "sources.users")
    id_column = _column(r, m, "id", "sources.users", required=True)
    updated_at = _column(r, m, "updated_at", "sources.users", required=False)
    traits_node = m.get("traits")
    traits, broken = _traits(r, traits_node) if traits_node is not None else ({}, set[str]())
    geo_node = m.get("geo")
    geo = _geo(r, geo_node, traits, broken) if geo_node is not None else None
    if relation is None or id_column is None or broken or (geo_node is not None and geo is None):
        return None
    if "updated_at" in m and updated_at is None:
        return None
    return UsersSource(relation, id_column, traits, updated_at, geo)


def _value_type(r: Reporter, node: YNode, what: str) -> ValueType | None:
    text = as_str(r, node, what)
    if text is None:
        return None
    if text not in TYPE_NAMES:
        r.error(node, f"unknown type {text!r} for {what}", closest(text, TYPE_NAMES))
        return None
    return ValueType(text)


def _traits(r: Reporter, node: YNode) -> tuple[dict[str, Trait], set[str]]:
    """The valid traits, and the names of those with errors (all reported)."""
    m = as_map(r, node, "sources.users.traits")
    if m is None:
        return {}, {"traits"}
    traits: dict[str, Trait] = {}
    broken: set[str] = set()
    for name, (key, value) in m.entries.items():
        ok = True
        if not NAME_RE.match(name):
            r.error(key, f"invalid trait name: {name!r}", NAME_HELP)
            ok = False
        elif name in BUILTIN_TRAITS:
            r.error(
                key,
                f"trait '{name}' shadows the built-in trait of that name",
                "rename it (built-ins: first_seen_at, last_seen_at, event_count)",
            )
            ok = False
        trait = _trait(r, name, value)
        if trait is not None and ok:
            traits[name] = trait
        else:
            broken.add(name)
    return traits, broken


def _trait(r: Reporter, name: str, node: YNode) -> Trait | None:
    """`plan: string` or `ltv: {type: number, column: lifetime_value}`."""
    what = f"trait '{name}'"
    if isinstance(node, YMap):
        check_keys(r, node, TRAIT_KEYS, what)
        type_node = require(r, node, "type", what)
        type_ = _value_type(r, type_node, what) if type_node is not None else None
        column_node = node.get("column")
        column = as_name(r, column_node, f"column of {what}", IDENTIFIER_RE) if column_node is not None else name
        return Trait(name, type_, column) if type_ is not None and column is not None else None
    if isinstance(node, YScalar) and isinstance(node.value, str):
        type_ = _value_type(r, node, what)
        return Trait(name, type_, name) if type_ is not None else None
    r.error(
        node,
        f"{what} must be a type name or a mapping, got {describe(node)}",
        "write e.g. `plan: string` or `ltv: {type: number, column: lifetime_value}`",
    )
    return None


def _geo(r: Reporter, node: YNode, traits: dict[str, Trait], broken: set[str]) -> Geo | None:
    """`{lat: TRAIT, lon: TRAIT}`, both number traits; traits already reported are skipped."""
    m = as_map(r, node, "sources.users.geo")
    if m is None:
        return None
    check_keys(r, m, GEO_KEYS, "sources.users.geo")
    names: list[str | None] = []
    for key in GEO_KEYS:
        value = require(r, m, key, "sources.users.geo")
        name = as_str(r, value, f"geo.{key}") if value is not None else None
        if value is not None and name is not None:
            trait = traits.get(name)
            if name in broken:
                name = None
            elif trait is None:
                r.error(value, f"geo.{key} names unknown trait {name!r}", did_you_mean(name, traits))
                name = None
            elif trait.type is not ValueType.NUMBER:
                r.error(value, f"geo.{key} names trait {name!r} of type {trait.type}; it must be a number trait")
                name = None
        names.append(name)
    lat, lon = names
    return Geo(lat, lon) if lat is not None and lon is not None else None


def _events(r: Reporter, node: YNode) -> EventsSource | None:
    m = as_map(r, node, "sources.events")
    if m is None:
        return None
    check_keys(r, m, EVENTS_KEYS, "sources.events")
    relation = _relation(r, m, "sources.events")
    required = [_column(r, m, key, "sources.events", required=True) for key in ("user_id", "name", "timestamp")]
    loaded_at = _column(r, m, "loaded_at", "sources.events", required=False)
    event_id = _column(r, m, "id", "sources.events", required=False)
    props_node = m.get("properties")
    properties = _properties(r, props_node) if props_node is not None else None
    user_id, name, timestamp = required
    if relation is None or user_id is None or name is None or timestamp is None:
        return None
    if ("loaded_at" in m and loaded_at is None) or ("id" in m and event_id is None):
        return None
    if props_node is not None and properties is None:
        return None
    return EventsSource(relation, user_id, name, timestamp, loaded_at, event_id, properties)


def _properties(r: Reporter, node: YNode) -> Properties | None:
    """`{column: json_col, types: {...}}` or `{columns: {prop: col}, types: {...}}`."""
    what = "sources.events.properties"
    m = as_map(r, node, what)
    if m is None:
        return None
    check_keys(r, m, PROPERTIES_KEYS, what)
    if "column" in m and "columns" in m:
        r.error(
            m.key_node("columns"),
            f"{what} takes either 'column' (one JSON column) or 'columns' (one column per property), not both",
        )
        return None
    types_node = m.get("types")
    types = _property_types(r, types_node) if types_node is not None else {}
    column_node, columns_node = m.get("column"), m.get("columns")
    if column_node is not None:
        column = as_name(r, column_node, f"column {what}.column", IDENTIFIER_RE)
        return JsonProperties(column, types) if column is not None and types is not None else None
    if columns_node is None:
        r.error(m, f"{what} needs 'column' (one JSON column) or 'columns' (one column per property)")
        return None
    columns = _property_columns(r, columns_node)
    if columns is None or types is None:
        return None
    unknown = [name for name in types if name not in columns]
    for name in unknown:
        assert isinstance(types_node, YMap)
        r.error(
            types_node.key_node(name),
            f"type given for unknown property {name!r}: flat properties must be listed in 'columns'",
            did_you_mean(name, columns),
        )
    return FlatProperties(columns, types) if not unknown else None


def _property_name(r: Reporter, key: YScalar, name: str) -> bool:
    if NAME_RE.match(name):
        return True
    r.error(key, f"invalid property name: {name!r}", NAME_HELP)
    return False


def _property_types(r: Reporter, node: YNode) -> dict[str, ValueType] | None:
    m = as_map(r, node, "sources.events.properties.types")
    if m is None:
        return None
    types: dict[str, ValueType] = {}
    ok = True
    for name, (key, value) in m.entries.items():
        type_ = _value_type(r, value, f"property '{name}'")
        ok = _property_name(r, key, name) and type_ is not None and ok
        if type_ is not None:
            types[name] = type_
    return types if ok else None


def _property_columns(r: Reporter, node: YNode) -> dict[str, str] | None:
    m = as_map(r, node, "sources.events.properties.columns")
    if m is None:
        return None
    columns: dict[str, str] = {}
    ok = True
    for name, (key, value) in m.entries.items():
        column = as_name(r, value, f"column of property '{name}'", IDENTIFIER_RE)
        ok = _property_name(r, key, name) and column is not None and ok
        if column is not None:
            columns[name] = column
    return columns if ok else None


def _rfm(r: Reporter, node: YNode, events: EventsSource | None) -> RfmConfig | None:
    m = as_map(r, node, "rfm")
    if m is None:
        return None
    check_keys(r, m, RFM_KEYS, "rfm")
    event_node, monetary_node, within_node = (require(r, m, key, "rfm") for key in RFM_KEYS)
    event = as_str(r, event_node, "rfm.event") if event_node is not None else None
    monetary = as_str(r, monetary_node, "rfm.monetary") if monetary_node is not None else None
    within = parse_duration(r, within_node, "rfm.within") if within_node is not None else None
    if monetary_node is not None and monetary is not None and events is not None:
        monetary = _monetary(r, monetary_node, monetary, events)
    if event is None or monetary is None or within is None:
        return None
    return RfmConfig(event, monetary, within)


def _predict(r: Reporter, node: YNode) -> PredictConfig | None:
    m = as_map(r, node, "predict")
    if m is None:
        return None
    check_keys(r, m, PREDICT_KEYS, "predict")
    model_node = m.get("bgnbd")
    if model_node is None:
        return PredictConfig()
    bgnbd = as_map(r, model_node, "predict.bgnbd")
    if bgnbd is None:
        return None
    check_keys(r, bgnbd, BGNBD_KEYS, "predict.bgnbd")
    event_node = require(r, bgnbd, "event", "predict.bgnbd")
    event = as_str(r, event_node, "predict.bgnbd.event") if event_node is not None else None
    unit_node, calibration_node = bgnbd.get("unit"), bgnbd.get("calibration")
    unit = parse_duration(r, unit_node, "predict.bgnbd.unit") if unit_node is not None else Duration(7 * 86400)
    calibration = parse_duration(r, calibration_node, "predict.bgnbd.calibration") if calibration_node else None
    if unit is not None and unit_node is not None and unit.seconds % 86400:
        r.error(unit_node, "predict.bgnbd.unit must be whole days (purchases are merged per day)", "e.g. 1d or 7d")
        unit = None
    if event is None or unit is None or (calibration_node is not None and calibration is None):
        return None
    return PredictConfig(BgNbdConfig(event, unit, calibration))


def _monetary(r: Reporter, node: YNode, name: str, events: EventsSource) -> str | None:
    type_ = events.property_type(name)
    if type_ is ValueType.NUMBER:
        return name
    if events.properties is None:
        r.error(node, f"rfm.monetary {name!r} must be a number property, but sources.events declares no properties")
    elif type_ is None:
        r.error(node, f"rfm.monetary {name!r} is not an event property", closest(name, events.known_properties()))
    elif name not in events.properties.types:
        r.error(
            node,
            f"rfm.monetary {name!r} must be a number property; undeclared properties are strings",
            f"declare it in sources.events.properties.types: {{{name}: number}}",
        )
    else:
        r.error(node, f"rfm.monetary {name!r} must be a number property, it is a {type_}")
    return None
