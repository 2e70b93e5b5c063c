"""``start_eagerly``: a coroutine runs in the caller's callback until it first suspends."""

from __future__ import annotations

import asyncio

import pytest

from ctiserver.eager import start_eagerly


async def test_a_coroutine_that_does_not_suspend_finishes_in_the_call() -> None:
    done: list[str] = []

    async def write() -> None:
        done.append("written")

    assert start_eagerly(write()) is None
    assert done == ["written"]  # before any pass of the event loop


async def test_a_suspended_coroutine_is_finished_by_a_task_with_the_awaited_result() -> None:
    gate: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    seen: list[object] = []

    async def write() -> None:
        seen.append("started")
        seen.append(await gate)
        await asyncio.sleep(0)
        seen.append("finished")

    task = start_eagerly(write())
    assert task is not None and seen == ["started"]
    gate.set_result(7)
    await task
    assert seen == ["started", 7, "finished"]


async def test_errors_reach_the_caller_or_the_task() -> None:
    async def broken() -> None:
        raise ConnectionResetError("closing")

    with pytest.raises(ConnectionResetError):
        start_eagerly(broken())

    gate: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    caught: list[str] = []

    async def later() -> None:
        try:
            await gate
        except ValueError as exc:
            caught.append(str(exc))
            raise

    task = start_eagerly(later())
    assert task is not None
    gate.set_exception(ValueError("peer gone"))
    with pytest.raises(ValueError):
        await task
    assert caught == ["peer gone"]


async def test_cancelling_the_task_cancels_inside_the_coroutine() -> None:
    gate: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    cleaned: list[bool] = []

    async def write() -> None:
        try:
            await gate
        finally:
            cleaned.append(True)

    task = start_eagerly(write())
    assert task is not None
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cleaned == [True]


async def test_eager_future_holds_the_result_or_the_error() -> None:
    from ctiserver.eager import eager_future

    order: list[str] = []

    async def reserve(name: str) -> str:
        order.append(name)  # the synchronous part runs in the call
        return name.upper()

    fut = eager_future(reserve("a"))
    order.append("after")
    assert fut.done() and await fut == "A" and order == ["a", "after"]

    async def refused() -> str:
        raise ValueError("illegal transition")

    failed = eager_future(refused())
    with pytest.raises(ValueError):
        await failed

    gate: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def later() -> str:
        return (await gate) + "!"

    pending = eager_future(later())
    assert not pending.done()
    gate.set_result("ok")
    assert await pending == "ok!"
