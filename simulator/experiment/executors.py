"""Where tasks run, behind one switch (``--scheduler``): in-process, a local process pool, or Dask.

* ``None`` / ``"inprocess"``: one after another in this process (the default).
* ``"processes:N"``: a ``concurrent.futures.ProcessPoolExecutor`` with N workers.
* ``"local:N"``: a ``dask.distributed.LocalCluster`` with N single-threaded worker processes.
* ``"tcp://HOST:PORT"`` (or ``tls://``): join a running Dask scheduler; its workers need the spec,
  profile and weight files at the same paths (a shared file system, as on most clusters).

Every executor yields results as tasks finish, in any order; the runner puts rows back in spec
order, so the bytes written do not depend on the executor.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, Protocol

DASK_HINT = "the dask scheduler needs dask.distributed: pip install 'dotsim[dask]'"


class Executor(Protocol):
    """Runs ``fn`` over tasks and yields each result when it is done (a context manager)."""

    workers: int  #: how many tasks run at once (the runner makes enough tasks to keep them busy)

    def map_unordered(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[Any]: ...
    def __enter__(self) -> Executor: ...
    def __exit__(self, *exc: object) -> None: ...


class InProcess:
    """Today's behaviour: each task in this process, in order."""

    workers = 1

    def map_unordered(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[Any]:
        return (fn(t) for t in tasks)

    def __enter__(self) -> InProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


class ProcessPool:
    """A local pool of worker processes; each keeps its own context between tasks."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.pool: ProcessPoolExecutor | None = None

    def map_unordered(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[Any]:
        assert self.pool is not None, "use ProcessPool as a context manager"
        futures = [self.pool.submit(fn, t) for t in tasks]
        try:
            for f in as_completed(futures):
                yield f.result()
        finally:
            for f in futures:
                f.cancel()

    def __enter__(self) -> ProcessPool:
        self.pool = ProcessPoolExecutor(self.workers)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


class Dask:
    """A ``dask.distributed`` client: a LocalCluster it starts (``local:N``) or a scheduler it joins."""

    def __init__(self, address: str | None = None, workers: int | None = None) -> None:
        self.address, self.workers = address, workers
        self.client: Any = None
        self.cluster: Any = None

    def map_unordered(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[Any]:
        from dask.distributed import as_completed as finished

        futures = [self.client.submit(fn, t, pure=False) for t in tasks]
        try:
            for f in finished(futures):
                yield f.result()
        finally:
            self.client.cancel(futures)

    def __enter__(self) -> Dask:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError as e:
            raise RuntimeError(DASK_HINT) from e  # one line from the CLI, as any user error
        if self.address is None:
            self.cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                        dashboard_address=None)
            self.client = Client(self.cluster)
        else:
            self.client = Client(self.address)
            self.workers = max(1, sum(self.client.nthreads().values()))
        return self

    def __exit__(self, *exc: object) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def _workers(scheduler: str, count: str) -> int:
    try:
        n = int(count)
    except ValueError:
        n = 0
    if n < 1:
        raise ValueError(f"--scheduler {scheduler}: the worker count must be a whole number >= 1")
    return n


def executor_for(scheduler: str | None) -> Executor:
    """The executor a ``--scheduler`` value names (a ValueError, said in one line, for anything else)."""
    if scheduler in (None, "", "inprocess"):
        return InProcess()
    assert scheduler is not None
    kind, _, rest = scheduler.partition(":")
    if kind == "processes":
        return ProcessPool(_workers(scheduler, rest))
    if kind == "local":
        return Dask(workers=_workers(scheduler, rest))
    if kind in ("tcp", "tls") and rest.startswith("//"):
        return Dask(address=scheduler)
    raise ValueError(f"--scheduler {scheduler}: expected inprocess, processes:N, local:N or tcp://HOST:PORT")
