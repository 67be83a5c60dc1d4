"""The ingest worker runs calls in its one thread and answers each awaiting caller."""

import asyncio
import threading

import pytest

from infracast.server.errors import InvalidArgument
from infracast.server.services.ingest_worker import IngestWorker


def test_results_and_errors_reach_their_callers_from_one_thread():
    worker = IngestWorker()
    threads: set[str] = set()

    def call(value: int) -> int:
        threads.add(threading.current_thread().name)
        if value == 3:
            raise InvalidArgument("three is refused")
        return value * 10

    async def main():
        return await asyncio.gather(*(worker.run(lambda v=v: call(v)) for v in range(6)),
                                    return_exceptions=True)

    try:
        results = asyncio.run(main())
    finally:
        worker.close()
    assert results[:3] == [0, 10, 20] and results[4:] == [40, 50]
    assert isinstance(results[3], InvalidArgument)
    assert threads == {"ingest-worker"}


def test_a_caller_that_went_away_does_not_stop_the_others():
    worker = IngestWorker()
    release = threading.Event()

    async def main():
        slow = asyncio.ensure_future(worker.run(lambda: release.wait(10)))
        await asyncio.sleep(0.05)
        slow.cancel()
        release.set()
        return await worker.run(lambda: "after")

    try:
        assert asyncio.run(main()) == "after"
    finally:
        worker.close()


def test_close_ends_the_thread():
    worker = IngestWorker(name="closing-worker")
    assert asyncio.run(worker.run(lambda: 1)) == 1
    worker.close()
    for thread in threading.enumerate():
        if thread.name == "closing-worker":
            thread.join(5)
            assert not thread.is_alive()


@pytest.mark.parametrize("callers", [1, 50])
def test_many_callers_each_get_their_own_answer(callers):
    worker = IngestWorker()

    async def main():
        return await asyncio.gather(*(worker.run(lambda i=i: i) for i in range(callers)))

    try:
        assert asyncio.run(main()) == list(range(callers))
    finally:
        worker.close()
