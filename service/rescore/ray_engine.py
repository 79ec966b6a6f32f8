"""The Ray engine: the same job as the local one, scored on a Ray Data pipeline.

Read → ``map_batches`` over a pool of actors → back to the driver:

- the read is a custom datasource whose one task streams the export through the
  local engine's reader and row checks (:mod:`service.rescore.readers`,
  :func:`service.rescore.rows.prepare`). Ray's own CSV and JSON readers cannot
  detect the encoding, keep undecodable rows as row errors or number the rows;
  reusing ours is what makes the output equal the local engine's, row for row.
  The task runs on the driver's node (``supports_distributed_reads`` is off), so
  the input path only has to exist there;
- each actor loads the analyzer (and the embedder, with themes) once, in
  ``__init__``, and scores whole batches with :class:`service.rescore.scoring.Scorer`;
- the driver takes the scored blocks in input order (``preserve_order``) and
  saves them as checkpoint parts, exactly as the local engine does, so a Ray run
  is resumable too and its output is written only where the driver runs.

Reading is cheap next to scoring, so one read task keeps many actors busy.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from service.rescore.errors import EngineError
from service.rescore.readers import Source
from service.rescore.rows import Layout
from service.rescore.scoring import POSITION, load_scorer
from service.rescore.themes import themes_to_bytes

if TYPE_CHECKING:
    import pyarrow as pa

    from nlp.themes import ThemeModel
    from service.rescore.options import RescoreOptions

__all__ = ["run_on_ray"]

logger = logging.getLogger(__name__)

_BLOCK_BYTES = 512 * 1024

_INSTALL_HINT = (
    "--engine ray needs Ray Data, which is not installed; install it with "
    "`pip install 'feedback-miner[ray]'` (or `pip install 'ray[data]'`)"
)


def run_on_ray(
    source: Source,
    layout: Layout,
    options: RescoreOptions,
    *,
    themes: ThemeModel | None,
    start: int,
) -> Iterator[tuple[pa.Table, int]]:
    """Score the records of ``source`` from ``start`` on Ray.

    Connects to ``options.ray_address``, or starts a local Ray instance when
    none is given and Ray is not running yet (and stops it at the end).

    Yields:
        Scored tables in input order, with the input position each ends at.

    Raises:
        EngineError: If Ray is not installed or cannot be reached.
    """
    ray = _import_ray()
    started_here = not ray.is_initialized()
    if started_here:
        try:
            ray.init(
                address=options.ray_address,
                include_dashboard=False,
                logging_level=logging.WARNING,
            )
        except (ConnectionError, RuntimeError, ValueError) as e:
            where = options.ray_address or "a new local instance"
            raise EngineError(f"cannot start or reach Ray at {where}: {e}") from None
    try:
        yield from _pipeline(ray, source, layout, options, themes, start)
    finally:
        if started_here:
            ray.shutdown()


def _pipeline(
    ray: Any,
    source: Source,
    layout: Layout,
    options: RescoreOptions,
    themes: ThemeModel | None,
    start: int,
) -> Iterator[tuple[pa.Table, int]]:
    from ray.data.context import DataContext

    context = DataContext.get_current()
    context.execution_options.preserve_order = True
    # Small blocks, so that the one read task feeds every actor early and the
    # progress display moves; Ray's default (128 MiB) is one block per file here.
    context.target_max_block_size = _BLOCK_BYTES
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    threads = options.threads or 2
    actors = options.ray_actors or max(
        1, int(ray.cluster_resources().get("CPU", threads)) // threads
    )
    logger.info("scoring on Ray with %d actors of %d threads", actors, threads)
    from service.rescore.ray_source import ExportDatasource

    datasource = ExportDatasource(
        source,
        layout,
        start=start,
        size=options.batch_size,
        max_chars=options.max_chars,
    )
    dataset = ray.data.read_datasource(
        datasource, override_num_blocks=1, num_cpus=0
    ).map_batches(
        _ScoreActor,
        fn_constructor_kwargs={
            "threads": threads,
            "batch_size": options.batch_size,
            "themes": None if themes is None else themes_to_bytes(themes),
        },
        compute=ray.data.ActorPoolStrategy(min_size=1, max_size=actors),
        num_cpus=threads,
        batch_size=options.batch_size,
        batch_format="pyarrow",
    )
    for table in dataset.iter_batches(batch_size=None, batch_format="pyarrow"):
        if table.num_rows:
            position = table.column(POSITION)[-1].as_py()
            yield table.drop_columns([POSITION]), position


def _import_ray() -> Any:
    try:
        import ray
        import ray.data  # the [data] extra
    except ImportError:
        raise EngineError(_INSTALL_HINT) from None
    return ray


class _ScoreActor:
    """Loads the models once per actor, then scores one batch per call."""

    def __init__(self, *, threads: int, batch_size: int, themes: bytes | None) -> None:
        self._scorer = load_scorer(
            threads=threads, batch_size=batch_size, themes=themes
        )
        logger.debug("scoring actor ready in process %d", os.getpid())

    def __call__(self, batch: pa.Table) -> pa.Table:
        return self._scorer.score(batch)
