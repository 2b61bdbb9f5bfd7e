"""A uniform grid of cubes over the unit sphere's 3-D space: candidate pairs, fast.

Working in 3-D unit vectors rather than longitude and latitude means no special case at the
antimeridian or the poles: cells are cubes, and a chord is a straight-line distance.

Each item (a site point, a piece of a segment, a polygon's cap) has a centre and a radius
``kappa`` (chords). It is registered in every cell that meets the cube of half-width
``kappa + reach`` around its centre and touches the sphere. A query point then looks up its own
cell only: any item within ``kappa + rho`` (``rho <= reach``) of it is listed there. Cells of
half the reach keep candidates to about twice the true matches for evenly spread items.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from allweather.matching.sphere import FloatArray

IntArray = NDArray[np.int64]

_WIDE = 40
_OFFSET = 1 << 20  # cell coordinates shift to non-negative before packing into one key


def _keys(ix: IntArray, iy: IntArray, iz: IntArray) -> IntArray:
    return np.asarray(((ix + _OFFSET) << 42) | ((iy + _OFFSET) << 21) | (iz + _OFFSET))


class CellGrid:
    """Items registered in cubes of side ``cell``; ``candidates`` lists (query, item) pairs."""

    def __init__(self, centres: FloatArray, kappa: FloatArray, reach: float, cell: float) -> None:
        self.cell = cell
        width = kappa + reach
        lo = np.floor((centres - width[:, None]) / cell).astype(np.int64)
        hi = np.floor((centres + width[:, None]) / cell).astype(np.int64)
        span = hi - lo + 1
        # An item wider than _WIDE cells a side (a continent-sized polygon) is listed for
        # every query instead of being registered in millions of cells.
        wide = (span > _WIDE).any(axis=1)
        self.everywhere = np.flatnonzero(wide).astype(np.int64)
        span[wide] = 0
        counts = span.prod(axis=1)
        total = int(counts.sum())
        owner = np.repeat(np.arange(len(centres), dtype=np.int64), counts)
        start = np.repeat(np.cumsum(counts) - counts, counts)
        rank = np.arange(total, dtype=np.int64) - start
        sy, sz = span[owner, 1], span[owner, 2]
        ix = lo[owner, 0] + rank // (sy * sz)
        iy = lo[owner, 1] + (rank // sz) % sy
        iz = lo[owner, 2] + rank % sz
        # Keep cells that touch the unit sphere: nearest point inside, farthest corner outside.
        cells = np.stack([ix, iy, iz], axis=1).astype(float) * cell
        near = np.clip(0.0, cells, cells + cell)
        far = np.maximum(np.abs(cells), np.abs(cells + cell))
        touch = (np.einsum("ij,ij->i", near, near) <= 1.0 + 1e-12) & (
            np.einsum("ij,ij->i", far, far) >= 1.0 - 1e-12
        )
        keys = _keys(ix[touch], iy[touch], iz[touch])
        owner = owner[touch]
        order = np.argsort(keys, kind="stable")
        keys, self.items = keys[order], owner[order]
        self.keys, first = np.unique(keys, return_index=True)
        self.starts = first.astype(np.int64)
        self.ends = np.append(self.starts[1:], len(keys)).astype(np.int64)

    def cell_keys(self, points: FloatArray) -> IntArray:
        cells = np.floor(points / self.cell).astype(np.int64)
        return _keys(cells[:, 0], cells[:, 1], cells[:, 2])

    def counts(self, points: FloatArray) -> IntArray:
        """How many items each query point's cell lists."""
        if not len(self.keys) or not len(points):
            return np.full(len(points), len(self.everywhere), dtype=np.int64)
        keys = self.cell_keys(points)
        slot = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        hit = self.keys[slot] == keys
        listed = np.where(hit, self.ends[slot] - self.starts[slot], 0).astype(np.int64)
        return listed + len(self.everywhere)

    def candidates(self, points: FloatArray) -> tuple[IntArray, IntArray]:
        """(query index, item index) for every item registered in each query point's cell."""
        q, items = self._listed(points)
        if not len(self.everywhere) or not len(points):
            return q, items
        n, w = len(points), len(self.everywhere)
        q = np.concatenate([q, np.repeat(np.arange(n, dtype=np.int64), w)])
        items = np.concatenate([items, np.tile(self.everywhere, n)])
        return q, items

    def _listed(self, points: FloatArray) -> tuple[IntArray, IntArray]:
        if not len(self.keys) or not len(points):
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty
        keys = self.cell_keys(points)
        slot = np.searchsorted(self.keys, keys)
        slot_c = np.minimum(slot, len(self.keys) - 1)
        hit = self.keys[slot_c] == keys
        query = np.flatnonzero(hit)
        starts = self.starts[slot_c[query]]
        counts = self.ends[slot_c[query]] - starts
        total = int(counts.sum())
        q = np.repeat(query, counts)
        offsets = np.repeat(starts - (np.cumsum(counts) - counts), counts)
        items = self.items[np.arange(total, dtype=np.int64) + offsets]
        return q.astype(np.int64), items
