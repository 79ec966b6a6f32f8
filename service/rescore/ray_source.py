"""A Ray Data datasource that streams an export through the local reader.

Imported only once Ray is known to be installed (see
:mod:`service.rescore.ray_engine`). Its single read task yields the tables of
:func:`service.rescore.rows.prepare`, each with a ``__position`` column telling
the driver how far into the input the block ends, for the progress display.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
from ray.data import Datasource, ReadTask
from ray.data.block import BlockMetadata
from ray.data.context import DataContext

from service.rescore.readers import Source, iter_chunks
from service.rescore.rows import Layout, prepare
from service.rescore.scoring import POSITION

__all__ = ["ExportDatasource"]


class ExportDatasource(Datasource):
    """Reads an export from record ``start`` as prepared tables of ``size`` rows.

    Args:
        source: The opened export.
        layout: The columns to read.
        start: Records already done.
        size: Records per block.
        max_chars: Longest text; longer ones become row errors.
    """

    def __init__(
        self, source: Source, layout: Layout, *, start: int, size: int, max_chars: int
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.source = source
        self.layout = layout
        self.start = start
        self.size = size
        self.max_chars = max_chars

    @property
    def supports_distributed_reads(self) -> bool:
        """Read on the driver's node, where the input path is known to exist."""
        return False

    def estimate_inmemory_data_size(self) -> int | None:
        """The file's size: close enough for text, an overestimate for Parquet."""
        return self.source.size

    def get_read_tasks(
        self,
        parallelism: int,
        per_task_row_limit: int | None = None,
        data_context: DataContext | None = None,
    ) -> list[ReadTask]:
        """One task streaming the whole file: a delimited file with quoted
        newlines cannot be split by byte ranges."""
        metadata = BlockMetadata(
            num_rows=None,
            size_bytes=self.source.size,
            input_files=(str(self.source.path),),
            exec_stats=None,
        )
        return [ReadTask(self._read, metadata)]

    def _read(self) -> Iterator[pa.Table]:
        chunks = iter_chunks(
            self.source,
            self.layout.text,
            self.layout.carried,
            start=self.start,
            size=self.size,
        )
        for chunk in chunks:
            table = prepare(
                chunk,
                self.layout,
                max_chars=self.max_chars,
                encoding=self.source.encoding,
            )
            position = pa.array([chunk.position] * table.num_rows, pa.int64())
            yield table.append_column(POSITION, position)
