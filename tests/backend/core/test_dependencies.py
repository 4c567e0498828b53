"""Every route handler and every dependency is a coroutine function (or an async generator).

FastAPI runs a plain `def` dependency in its thread pool: a thread hop and two GIL hand-offs per request for
what is a dictionary lookup. Four such dependencies cost the order endpoint a measurable share of its CPU,
so this walk refuses new ones."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts


def _walk(dependant: Dependant) -> Iterator[Dependant]:
    for child in dependant.dependencies:
        yield child
        yield from _walk(child)


def _runs_on_the_event_loop(call: Callable[..., Any]) -> bool:
    target = call if inspect.isfunction(call) or inspect.ismethod(call) else type(call).__call__
    return inspect.iscoroutinefunction(target) or inspect.isasyncgenfunction(target)


def test_no_route_or_dependency_runs_in_the_thread_pool(app: FastAPI) -> None:
    sync: set[str] = set()
    routes = 0
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute):
            continue
        routes += 1
        for dependant in (context.dependant, *_walk(context.dependant)):
            call = dependant.call
            if call is not None and not _runs_on_the_event_loop(call):
                sync.add(f"{getattr(call, '__module__', '?')}.{getattr(call, '__qualname__', call)}")
    assert routes > 50
    assert not sync, f"plain `def` dependencies or handlers run in the thread pool: {sorted(sync)}"


def test_the_walk_notices_a_plain_def_dependency() -> None:
    def plain() -> int:
        return 1

    async def coroutine() -> int:
        return 1

    assert not _runs_on_the_event_loop(plain)
    assert _runs_on_the_event_loop(coroutine)
