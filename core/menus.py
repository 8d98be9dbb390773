"""Menu entries contributed by modules, assembled into a tree filtered by permission."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class MenuItem:
    """One entry of the main menu.

    ``id`` is unique across the installation (prefix it with the module name); ``parent`` is the id
    of another entry; an entry without ``endpoint`` is a heading that shows only when one of its
    children does. ``permission`` is the code a user needs to see the entry; None means any
    logged-in user.
    """

    id: str
    label: str
    endpoint: str | None = None
    parent: str | None = None
    order: int = 100
    permission: str | None = None
    icon: str | None = None
    module: str = ""


@dataclass
class MenuNode:
    item: MenuItem
    children: list[MenuNode] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.item.id


def build_tree(items: Iterable[MenuItem]) -> list[MenuNode]:
    """Arrange entries into a tree ordered by (order, label); orphans become top-level entries."""
    nodes = {item.id: MenuNode(item) for item in items}
    roots: list[MenuNode] = []
    for node in nodes.values():
        parent = nodes.get(node.item.parent) if node.item.parent else None
        (parent.children if parent else roots).append(node)

    def sort(level: list[MenuNode]) -> list[MenuNode]:
        level.sort(key=lambda n: (n.item.order, n.item.label))
        for n in level:
            sort(n.children)
        return level

    return sort(roots)


def visible_tree(tree: list[MenuNode], allowed: Callable[[str | None], bool]) -> list[MenuNode]:
    """The part of the tree a user may see: permitted entries, and headings with a visible child."""
    result = []
    for node in tree:
        if not allowed(node.item.permission):
            continue
        children = visible_tree(node.children, allowed)
        if node.item.endpoint is None and not children:
            continue
        result.append(MenuNode(node.item, children))
    return result
