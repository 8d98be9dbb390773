"""Extension points crm_tasks owns (added to the plugin manager through ``crm_addhooks``).

Documented for module authors in ``docs/modules/crm_tasks.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.hookspecs import hookspec

if TYPE_CHECKING:
    from crm_tasks.models import Task


@dataclass(frozen=True)
class TaskLinkOption:
    """A record a task can be completed with, e.g. the contract a "conclude a new contract" task
    produced.

    ``model`` is the registry name of the record's model (its table name, e.g.
    ``crm_contracts_contract``), ``record_id`` its primary key, ``label`` what the user reads in the
    completion form and on the task ("Contract 2026-0042, Bioprom, from 01.01.2027"), ``url``
    where the task page links to (a path of this site, ``url_for(...)``; optional). ``module`` is
    filled in by crm_tasks with the name of the module that offered it.
    """

    model: str
    record_id: int | str
    label: str
    url: str = ""
    module: str = ""

    @property
    def key(self) -> str:
        """How the option is posted by the form and the API: ``<model>:<record id>``."""
        return f"{self.model}:{self.record_id}"


@hookspec
def crm_tasks_completion_links(task: Task) -> list[TaskLinkOption | dict]:
    """Records that ``task`` can be completed with (marked "completed/confirmed" and linked to).

    Return a list of ``TaskLinkOption``, or, from a module that does not depend on crm_tasks (and
    so cannot import this class), of plain dicts with the same keys:
    ``{"model": "crm_contracts_contract", "record_id": 42, "label": "Contract 2026-0042",
    "url": "/contracts/42"}`` (``url`` optional).

    Called during the request that shows or submits the completion of ``task`` (its detail page,
    the board's card, the JSON API's transition to ``confirmed``), for every installed module that
    implements it: return the candidates for this task, typically the records of the task's
    client that were created since the task was (``task.client_id``, ``task.created_at``,
    ``task.commitment_type.code`` such as ``new_contract``), or an empty list when the task is not
    about your records. Use the request's session (``core.db.db_session``) so that record rules
    hide what the user may not see, and a bounded number of queries (one, with a ``LIMIT``).

    The user may pick one of the options (or none); a submitted option that no implementation
    offers is refused. The chosen option's model, id, label and url are stored on the task
    (``link_model``, ``link_record_id``, ``link_label``, ``link_url``), so the link survives the
    module that offered it. A failing implementation is logged and skipped.

    A module that does not depend on crm_tasks implements it with ``@hookimpl(optionalhook=True)``.
    """
