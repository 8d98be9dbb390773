"""``core.bulk.few_collections``: Python's garbage collector runs rarely inside, as before after,
also when two imports overlap in one process (threads of a job worker)."""

from __future__ import annotations

import gc
import threading

from core.bulk import RARE_COLLECTIONS, few_collections


def test_rare_collections_inside_and_the_defaults_after():
    before = gc.get_threshold()
    alive = [[]]  # made before the block: frozen inside it, never walked by a collection
    with few_collections():
        assert gc.get_threshold() == RARE_COLLECTIONS
        assert not any(o is alive for o in gc.get_objects())
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
    assert any(o is alive for o in gc.get_objects())


def test_overlapping_blocks_restore_the_defaults_when_the_last_ends():
    before = gc.get_threshold()
    inside, leave = threading.Event(), threading.Event()

    def other_import() -> None:
        with few_collections():
            inside.set()
            leave.wait(10)

    thread = threading.Thread(target=other_import)
    with few_collections():
        thread.start()
        assert inside.wait(10)
    # This block has ended, the other thread's has not: still rare.
    assert gc.get_threshold() == RARE_COLLECTIONS
    leave.set()
    thread.join(10)
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_an_error_inside_restores_the_defaults():
    before = gc.get_threshold()
    try:
        with few_collections():
            raise RuntimeError("the import failed")
    except RuntimeError:
        pass
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
