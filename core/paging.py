"""The page numbers a list page links to, shared by every module's lists (the JSON API pages with
``core.api.paginate``)."""

from __future__ import annotations


def page_links(page: int, pages: int) -> list[int | None]:
    """The first, the last and two around the current page; None marks a gap ("…")."""
    wanted = {1, pages, *range(page - 2, page + 3)}
    links: list[int | None] = []
    for number in sorted(n for n in wanted if 1 <= n <= pages):
        if links and number - (links[-1] or 0) > 1:
            links.append(None)
        links.append(number)
    return links
