"""The loader options that carry the record rules' conditions into every statement
(``core.record_rules`` decides the conditions; this module makes applying them cheap).

SQLAlchemy derives a statement's cache key from the whole statement, its options included, every
time it runs one, and looks its compiled form up by that key. A representative's conditions are
twenty-odd ``with_loader_criteria`` options, some holding the others as subqueries: keyed the
ordinary way they cost 0.5 ms a statement, half of her client file. Here each option's key is
computed once, and a user's options travel as one option whose key is a few numbers.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.orm.interfaces import CriteriaOption
from sqlalchemy.orm.util import LoaderCriteriaOption
from sqlalchemy.sql.annotation import _deep_annotate, _safe_annotate
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.visitors import anon_map


def build_options(criteria: dict[type, ColumnElement[bool]]) -> tuple[Any, ...]:
    """The options that apply ``criteria`` (a condition per model) to a statement."""
    return (
        _RulesOption(
            tuple(
                # Not propagated to the statements of relationship loaders: they come through
                # the session's listener too and get the rules there, once (propagated as well,
                # a selectin load of a contract's conditions carried every rule twice).
                _CriteriaOption(model, condition, include_aliases=True, propagate_to_loaders=False)
                for model, condition in criteria.items()
            )
        ),
    )


class _CriteriaOption(LoaderCriteriaOption):
    """``with_loader_criteria``, whose SQL cache key is computed once instead of at every
    statement. The key of an option depends on its own structure only, and an option never
    changes, so it is computed once in a map of its own and replayed, with the same bound
    parameters in the same order, into every statement's. When it uses anything but ids in that
    map (an uncacheable element, ``params()``), it is computed the ordinary way every time."""

    # SQLAlchemy builds a class's cache key from the ``_traverse_internals`` in its own __dict__.
    _traverse_internals = LoaderCriteriaOption._traverse_internals

    def _resolve_where_criteria(self, ext_info: Any) -> ColumnElement[bool]:
        """The condition as SQLAlchemy marks it for the statement (each element annotated
        ``for_loader_criteria``), but its bound parameters left as they are: annotated copies
        of one parameter hash alike and compare as SQL expressions, and SQLAlchemy, which puts
        a statement's parameters in a dict at every execution, built some 130 comparison
        expressions a client file for them (2 ms)."""
        if self.deferred_where_criteria:
            return super()._resolve_where_criteria(ext_info)
        return _deep_annotate(
            self.where_criteria,
            {"for_loader_criteria": self},
            detect_subquery_cols=True,
            ind_cols_on_fromclause=True,
            annotate_callable=_annotate_but_binds,
        )

    def memo(self) -> tuple[Any, ...]:
        """``(structure number, bound parameters)``, or ``()`` when it cannot be replayed."""
        memo = self.__dict__.get("_crm_cache_key")
        if memo is None:
            own_map, own_binds = anon_map(), []
            key = super()._gen_cache_key(own_map, own_binds)
            plain = key is not None and all(isinstance(k, int | str) for k in own_map)
            memo = self.__dict__["_crm_cache_key"] = (
                (_structure_number(key), tuple(own_binds)) if plain else ()
            )
        return memo

    def _gen_cache_key(self, anon_map: Any, bindparams: list[Any]) -> Any:
        memo = self.memo()
        if not memo:
            return super()._gen_cache_key(anon_map, bindparams)
        return ("crm_criteria", memo[0], _replay(memo[1], anon_map, bindparams))


class _RulesOption(CriteriaOption):
    """A user's ``_CriteriaOption``s as one option. SQLAlchemy visits a statement's options one by
    one to key it, a call and a tuple each; this one's key is the tuple of its options' structure
    numbers and of its bound parameters' places, and applying it applies each of them."""

    propagate_to_loaders = False

    def __init__(self, options: tuple[_CriteriaOption, ...]) -> None:
        self.options = options
        memos = [option.memo() for option in options]
        # Replayed as one when every option can be; otherwise each keys itself.
        self.plain = all(memos)
        self.numbers = tuple(memo[0] for memo in memos) if self.plain else ()
        self.binds = tuple(bind for memo in memos for bind in memo[1]) if self.plain else ()

    def _gen_cache_key(self, anon_map: Any, bindparams: list[Any]) -> Any:
        if self.plain:
            return ("crm_rules", self.numbers, _replay(self.binds, anon_map, bindparams))
        return ("crm_rules", tuple(o._gen_cache_key(anon_map, bindparams) for o in self.options))

    def process_compile_state(self, compile_state: Any) -> None:
        for option in self.options:
            option.process_compile_state(compile_state)

    def process_compile_state_replaced_entities(
        self, compile_state: Any, mapper_entities: Any
    ) -> None:
        for option in self.options:
            option.process_compile_state_replaced_entities(compile_state, mapper_entities)

    def get_global_criteria(self, attributes: dict[Any, Any]) -> None:
        for option in self.options:
            option.get_global_criteria(attributes)


def _annotate_but_binds(element: Any, annotations: Any) -> Any:
    if isinstance(element, BindParameter):
        return element
    return _safe_annotate(element, annotations)


def _replay(binds: tuple[Any, ...], anon_map: Any, bindparams: list[Any]) -> tuple[int, ...]:
    """Put ``binds`` into a statement's key as SQLAlchemy would: a bound parameter shared with
    what the key holds already (the client's condition sits in most owned models' ones) is listed
    once, and the key says which were shared, so that two statements of one key list theirs
    alike."""
    places = []
    for bind in binds:
        number, seen = anon_map.get_anon(bind)
        places.append(number)
        if not seen:
            bindparams.append(bind)
    return tuple(places)


# Each distinct structure of a condition, numbered: a statement's cache key holds the number, not
# the structure. SQLAlchemy looks every statement up in its cache by its key, which it hashes and
# compares whole: with a representative's twenty-odd conditions inside, nested tuples of thousands
# of elements, 0.17 ms a statement, 6 ms of her client file. The structures are those of the
# rules in force (a few dozen: the user's values are bound parameters, not structure).
_STRUCTURES: dict[Any, int] = {}
_STRUCTURES_LOCK = threading.Lock()


def _structure_number(key: Any) -> int:
    with _STRUCTURES_LOCK:
        return _STRUCTURES.setdefault(key, len(_STRUCTURES))
