"""The one tree walk of the rule AST, and the two shapes every pass over it takes.

A pass never recurses by hand. It is one of:

- a `Collector`: sees every node of a rule once (`walk` order) and records what its leaves
  need, e.g. the event features a plan computes or the window edges of incremental runs;
- a `Fold`: computes a value bottom-up, a boolean node's handler receiving its children's
  values, e.g. a condition's SQL or its canonical form;
- a `Visitor`: one value for one node, e.g. its one-line description.

Each declares one abstract handler per node kind, so a pass that lacks one cannot be
instantiated (and mypy says so), and dispatch ends in `assert_never`: a new node kind that is
not handled everywhere fails type-checking and `tests/test_rule_walk.py`, instead of being
skipped in silence.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Generic, TypeVar, assert_never

from segwise.rules.nodes import (
    AllOf,
    AnyOf,
    Condition,
    EventCondition,
    InSegment,
    Near,
    Not,
    PredictCondition,
    RfmCondition,
    SequenceCondition,
    TraitCondition,
)

R = TypeVar("R")

# The handler of each node kind, in every pass.
HANDLERS: dict[type, str] = {
    AllOf: "all_of",
    AnyOf: "any_of",
    Not: "not_",
    TraitCondition: "trait",
    EventCondition: "event",
    SequenceCondition: "sequence",
    InSegment: "in_segment",
    Near: "near",
    RfmCondition: "rfm",
    PredictCondition: "predict",
}


def children(cond: Condition) -> tuple[Condition, ...]:
    """The direct sub-conditions of a node; none for a leaf."""
    match cond:
        case AllOf(items=items) | AnyOf(items=items):
            return items
        case Not(item=item):
            return (item,)
        case (
            TraitCondition()
            | EventCondition()
            | SequenceCondition()
            | InSegment()
            | Near()
            | RfmCondition()
            | PredictCondition()
        ):
            return ()
        case _:
            assert_never(cond)


def walk(cond: Condition) -> Iterator[Condition]:
    """Every node of the tree, parents before children, in written order. Iterative, so the
    depth of a tree costs no stack."""
    stack = [cond]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(children(node)))


def references(cond: Condition) -> Iterator[InSegment]:
    """The `in_segment` nodes of a rule, in written order."""
    for node in walk(cond):
        if isinstance(node, InSegment):
            yield node


class Visitor(ABC, Generic[R]):
    """One value for one node (its children are not visited)."""

    def visit(self, cond: Condition) -> R:
        match cond:
            case AllOf():
                return self.all_of(cond)
            case AnyOf():
                return self.any_of(cond)
            case Not():
                return self.not_(cond)
            case TraitCondition():
                return self.trait(cond)
            case EventCondition():
                return self.event(cond)
            case SequenceCondition():
                return self.sequence(cond)
            case InSegment():
                return self.in_segment(cond)
            case Near():
                return self.near(cond)
            case RfmCondition():
                return self.rfm(cond)
            case PredictCondition():
                return self.predict(cond)
            case _:
                assert_never(cond)

    @abstractmethod
    def all_of(self, node: AllOf) -> R: ...

    @abstractmethod
    def any_of(self, node: AnyOf) -> R: ...

    @abstractmethod
    def not_(self, node: Not) -> R: ...

    @abstractmethod
    def trait(self, node: TraitCondition) -> R: ...

    @abstractmethod
    def event(self, node: EventCondition) -> R: ...

    @abstractmethod
    def sequence(self, node: SequenceCondition) -> R: ...

    @abstractmethod
    def in_segment(self, node: InSegment) -> R: ...

    @abstractmethod
    def near(self, node: Near) -> R: ...

    @abstractmethod
    def rfm(self, node: RfmCondition) -> R: ...

    @abstractmethod
    def predict(self, node: PredictCondition) -> R: ...


class Collector(Visitor[None]):
    """Sees every node of the rules it is given once. Boolean nodes hold nothing but their
    children, which `collect` visits anyway, so their handlers do nothing; every leaf kind
    needs a handler of its own."""

    def collect(self, cond: Condition) -> None:
        for node in walk(cond):
            self.visit(node)

    def all_of(self, node: AllOf) -> None:
        return None

    def any_of(self, node: AnyOf) -> None:
        return None

    def not_(self, node: Not) -> None:
        return None


class Fold(ABC, Generic[R]):
    """A value computed bottom-up: each boolean node's handler gets its children's values."""

    def fold(self, cond: Condition) -> R:
        # Post-order without recursion: a node is finished once all its children are.
        done: list[R] = []
        stack: list[tuple[Condition, bool]] = [(cond, False)]
        while stack:
            node, expanded = stack.pop()
            kids = children(node)
            if not expanded and kids:
                stack.append((node, True))
                stack.extend((kid, False) for kid in reversed(kids))
                continue
            values = done[len(done) - len(kids) :] if kids else []
            if kids:
                del done[len(done) - len(kids) :]
            done.append(self._apply(node, values))
        return done[0]

    def _apply(self, node: Condition, values: list[R]) -> R:
        match node:
            case AllOf():
                return self.all_of(node, values)
            case AnyOf():
                return self.any_of(node, values)
            case Not():
                return self.not_(node, values[0])
            case TraitCondition():
                return self.trait(node)
            case EventCondition():
                return self.event(node)
            case SequenceCondition():
                return self.sequence(node)
            case InSegment():
                return self.in_segment(node)
            case Near():
                return self.near(node)
            case RfmCondition():
                return self.rfm(node)
            case PredictCondition():
                return self.predict(node)
            case _:
                assert_never(node)

    @abstractmethod
    def all_of(self, node: AllOf, items: list[R]) -> R: ...

    @abstractmethod
    def any_of(self, node: AnyOf, items: list[R]) -> R: ...

    @abstractmethod
    def not_(self, node: Not, item: R) -> R: ...

    @abstractmethod
    def trait(self, node: TraitCondition) -> R: ...

    @abstractmethod
    def event(self, node: EventCondition) -> R: ...

    @abstractmethod
    def sequence(self, node: SequenceCondition) -> R: ...

    @abstractmethod
    def in_segment(self, node: InSegment) -> R: ...

    @abstractmethod
    def near(self, node: Near) -> R: ...

    @abstractmethod
    def rfm(self, node: RfmCondition) -> R: ...

    @abstractmethod
    def predict(self, node: PredictCondition) -> R: ...
