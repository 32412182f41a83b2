r"""Self-organized lookup-table (LUT) network and the simulations of its transition to generalization.

.. note::
   **Reconstruction, not a reproduction.** S. Barland and L. Gil, *Generalization emerges from local
   optimization in a self-organized learning network*, arXiv:2410.02590 (2024), describe a layered
   network of lookup-table nodes that stores every training example at once (training error zero
   by construction) and then restructures itself by local topological operations (splitting and
   merging nodes, adding binary connections) chosen by "optimization of expressivity at the local
   scale", with an abrupt, first-order-like transition to perfect generalization. Only the abstract
   and secondary descriptions were available. :class:`LUTNetwork` is the reconstruction of
   ``shared/specs/lut_network.md`` §3 (an Ashenhurst-type decomposition with don't-cares), written
   in the spirit of the abstract: the split/merge criteria, the "expressivity" score and the tasks
   are ours, not the authors'. Nothing here is a numeric reproduction of the paper.

The learner
-----------
Binary inputs :math:`x\in\{0,1\}^n`, binary label. The state is a list of *top variables* (raw
inputs or hidden nodes :math:`w = h(u, v)` with a 4-entry table) and a partially specified top
lookup table holding exactly the training patterns. Local operations, each checked on the data
only:

* **pair split** of two top variables :math:`(u, v)` into a new hidden node with binary output
  (rows :math:`r = 2u + v` of the decomposition chart are 2-coloured; five colourings depend on both
  inputs: ``and0 .. and3`` single out row 0..3, ``xor`` is :math:`\{0,3\}` vs :math:`\{1,2\}`);
* **drop** of a variable whose rows :math:`u=0` and :math:`u=1` never conflict.

A merged pair of rows must be *witnessed* ``min_support`` times (a column where both rows are
defined and agree) and never conflict. The greedy rule applies the best-scoring valid operation
(random tie-breaks from an explicit ``rng``) until none remains or one variable is left. Training
error is exactly zero after every operation.

Simulations
-----------
:func:`simulate_fit` (one network, exact test accuracy over all unseen inputs for :math:`n\le 16`),
:func:`transition_scan` ((n, P) grids, parallel over processes with a progress bar),
:func:`hysteresis` (frozen structure vs fresh fit), :func:`topological_trajectory` (accuracy after
each operation), :func:`simulate_gf2_learner` (the exactly solvable global reference) and the
order-parameter statistics :func:`bimodality_coefficient`, :func:`binder_ratio`.

References
----------
S. Barland, L. Gil, arXiv:2410.02590 (2024). R. L. Ashenhurst, "The decomposition of switching
functions" (1957) [L]. S. Patarnello, P. Carnevali, Europhys. Lett. 4, 503 (1987).
"""
from __future__ import annotations

import dataclasses
import itertools
import math
import os
from typing import Callable, Sequence

import numpy as np

from phasekit._errors import InvalidParameterError

from ._common import SimStats, binomial_estimate, estimate

__all__ = [
    "LUTNetwork", "LUTOperation", "BooleanTarget", "parity", "random_read_once", "all_inputs",
    "LUTRun", "simulate_fit", "ScanPoint", "TransitionScan", "transition_scan",
    "HysteresisResult", "hysteresis", "TrajectoryResult", "topological_trajectory",
    "GF2Simulation", "gf2_rank", "simulate_gf2_learner", "bimodality_coefficient", "binder_ratio",
    "mid_fraction", "SUCCESS_THRESHOLD",
]

#: A run counts as a success (perfect generalization) when its unseen-input accuracy is >= this.
SUCCESS_THRESHOLD = 0.999
_MAX_N = 62
_EXACT_TEST_MAX_N = 16

# Rows r = 2u + v of the decomposition chart; the six unordered row pairs.
_ROW_PAIRS = ((0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3))
_RP_INDEX = {p: i for i, p in enumerate(_ROW_PAIRS)}
# The five 2-colourings whose class function h(u, v) depends on both inputs.
_PARTITIONS = (
    # name, table h[r], merged row pairs, classes
    ("and0", (1, 0, 0, 0), ((1, 2), (1, 3), (2, 3)), ((1, 2, 3), (0,))),
    ("and1", (0, 1, 0, 0), ((0, 2), (0, 3), (2, 3)), ((0, 2, 3), (1,))),
    ("and2", (0, 0, 1, 0), ((0, 1), (0, 3), (1, 3)), ((0, 1, 3), (2,))),
    ("and3", (0, 0, 0, 1), ((0, 1), (0, 2), (1, 2)), ((0, 1, 2), (3,))),
    ("xor", (0, 1, 1, 0), ((0, 3), (1, 2)), ((0, 3), (1, 2))),
)
_SCORES = ("support", "mdl")


# --------------------------------------------------------------------------------------------
# validation helpers (one message template, see STYLE.md)
# --------------------------------------------------------------------------------------------
def _bad(name, where, what, value):
    return InvalidParameterError(f"The {name!r} parameter of {where} must be {what}. Got {value!r} instead.")


def _check_int(value, name, where, lo=None, hi=None):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise _bad(name, where, f"an int in the range [{lo if lo is not None else '-inf'}, "
                   f"{hi if hi is not None else 'inf'}]", value)
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise _bad(name, where, f"an int in the range [{lo if lo is not None else '-inf'}, "
                   f"{hi if hi is not None else 'inf'}]", value)
    return int(value)


def _check_option(value, name, where, options):
    if value not in options:
        raise _bad(name, where, "a str among {" + ", ".join(repr(o) for o in options) + "}", value)
    return value


def _as_binary_matrix(X, where):
    X = np.asarray(X)
    if X.ndim != 2:
        raise _bad("X", where, "a 2-d array of shape (n_samples, n_features)", f"shape {X.shape}")
    if X.size and not np.isin(X, (0, 1)).all():
        raise _bad("X", where, "a binary array (entries 0/1 or bool)", "non-binary entries")
    return X.astype(np.uint8, copy=False)


def _as_binary_vector(y, n, where):
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != n:
        raise _bad("y", where, f"a 1-d binary array of length {n}", f"shape {y.shape}")
    if y.size and not np.isin(y, (0, 1)).all():
        raise _bad("y", where, "a binary array (entries 0/1 or bool)", "non-binary entries")
    return y.astype(np.int8, copy=False)


def _codes(V):
    """Integer code of each row of a binary matrix (bit j = column j)."""
    if V.shape[1] == 0:
        return np.zeros(V.shape[0], dtype=np.int64)
    w = np.left_shift(np.int64(1), np.arange(V.shape[1], dtype=np.int64))
    return V.astype(np.int64) @ w


# --------------------------------------------------------------------------------------------
# the network
# --------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class LUTOperation:
    """One topological operation applied by :meth:`LUTNetwork.fit`.

    Attributes
    ----------
    step : int
        0-based position in the operation log.
    kind : {'split', 'drop'}
    inputs : tuple of int
        Variable ids (raw input ``j < n`` or hidden node ``n + k``) consumed by the operation.
    partition : str
        ``'and0'..'and3'`` or ``'xor'`` for a split, ``'drop'`` for a drop.
    table : tuple of int
        The new hidden node's 4-entry table ``h[2u + v]`` (empty for a drop).
    node : int or None
        Id of the hidden node created (``None`` for a drop).
    support : int
        Number of agreeing witnesses summed over the merged row pairs.
    score : float
        Value of the selection score that chose the operation (higher is better).
    n_candidates : int
        Number of valid operations at this step.
    m_after : int
        Number of top variables after the operation.
    n_patterns_after : int
        Number of specified top-table entries after the operation.
    """

    step: int
    kind: str
    inputs: tuple
    partition: str
    table: tuple
    node: int | None
    support: int
    score: float
    n_candidates: int
    m_after: int
    n_patterns_after: int


class LUTNetwork:
    r"""Self-organized lookup-table network (reconstruction of Barland & Gil 2024, spec §3).

    **Reconstruction in the spirit of the abstract of arXiv:2410.02590, not the authors'
    algorithm** (see the module docstring).

    Every training example is stored exactly in a top lookup table; a greedy sequence of local
    topological operations (pair split into a hidden 4-entry LUT node, drop of a variable) then
    compresses the table. Each operation is valid only if it keeps all stored labels (no
    conflicting rows in a merged class), so the training error is exactly zero after every
    operation.

    Parameters
    ----------
    min_support : int, default 1
        Witnesses required for every pair of rows merged into one class (a column of the
        decomposition chart where both rows are defined and agree). ``0`` accepts unwitnessed
        merges (pure don't-care filling).
    score : {'support', 'mdl'}, default 'support'
        Selection rule ("local expressivity"). ``'support'``: maximise the total number of agreeing
        witnesses of the merged row pairs. ``'mdl'`` (the alternative): minimise the full-table
        description length :math:`\sum_\text{nodes} 2^{\text{fan-in}}` after the operation (a drop
        saves 4 entries over a split), ties broken by the number of *specified* entries left, then
        at random.
    rng : None, int or numpy.random.Generator
        Source of the random tie-breaks (``np.random.default_rng(rng)``).
    max_ops : int or None
        Stop after this many operations (``None``: until no valid operation remains or one
        variable is left).

    Attributes
    ----------
    ops_log : list of LUTOperation
        Operations applied by the last :meth:`fit`.
    n_hidden : int
        Number of hidden nodes.
    n_top : int
        Number of top-table input variables (``m``).
    n_features_in_ : int
        ``n``.

    Notes
    -----
    The cost of one step is :math:`O(m^2 P \log P)` (a sort of the chart keys for every pair).
    Unseen top patterns are predicted with the training-majority label (ties: 0). Inputs are
    limited to :math:`n \le 62` (patterns are packed in 64-bit integers).

    Examples
    --------
    >>> import numpy as np
    >>> from phasekit.validation.lut_network import LUTNetwork, all_inputs, parity
    >>> rng = np.random.default_rng(0)
    >>> X = all_inputs(8)[rng.choice(256, 60, replace=False)]
    >>> net = LUTNetwork(rng=1).fit(X, parity(8)(X))
    >>> bool((net.predict(X) == parity(8)(X)).all())
    True
    """

    def __init__(self, min_support=1, score="support", rng=None, max_ops=None):
        where = "LUTNetwork"
        self.min_support = _check_int(min_support, "min_support", where, 0)
        self.score = _check_option(score, "score", where, _SCORES)
        self.max_ops = None if max_ops is None else _check_int(max_ops, "max_ops", where, 0)
        self.rng = rng
        self._fitted = False

    # ---- public attributes -------------------------------------------------------------
    @property
    def ops_log(self) -> list:
        self._require_fitted("ops_log")
        return list(self._ops)

    @property
    def n_hidden(self) -> int:
        self._require_fitted("n_hidden")
        return len(self._nodes)

    @property
    def n_top(self) -> int:
        self._require_fitted("n_top")
        return len(self._top)

    @property
    def hidden_nodes(self) -> list:
        """``[(node_id, input_a, input_b, table), ...]`` in creation order."""
        self._require_fitted("hidden_nodes")
        n = self.n_features_in_
        return [(n + k, a, b, tuple(int(t) for t in tab)) for k, (a, b, tab) in enumerate(self._nodes)]

    @property
    def top_variables(self) -> tuple:
        self._require_fitted("top_variables")
        return tuple(self._top)

    def description_length(self) -> int:
        """Total table entries: 4 per hidden node plus the *specified* top-table entries.

        Equals the number of distinct training inputs when no operation was applied, and
        ``4(n-1) + 2`` after a completed full-parity run (spec §4.5).
        """
        self._require_fitted("description_length")
        return 4 * len(self._nodes) + int(self._table_codes.size)

    def full_table_length(self) -> int:
        r""":math:`\sum_\text{nodes} 2^{\text{fan-in}}` with full tables (the ``'mdl'`` score's count)."""
        self._require_fitted("full_table_length")
        return 4 * len(self._nodes) + 2 ** len(self._top)

    # ---- fitting ------------------------------------------------------------------------
    def fit(self, X, y, *, callback: Callable | None = None):
        """Store ``(X, y)`` in the top table, then apply local operations greedily.

        Parameters
        ----------
        X : array_like, shape (P, n), binary
        y : array_like, shape (P,), binary
            Duplicate inputs are allowed if they carry the same label.
        callback : callable, optional
            ``callback(net, op)`` after every operation, with the network in a consistent,
            predictable state (used to follow the topological-time dynamics and to check that the
            training error stays exactly zero).

        Returns
        -------
        self
        """
        where = "LUTNetwork.fit"
        X = _as_binary_matrix(X, where)
        y = _as_binary_vector(y, X.shape[0], where)
        n = X.shape[1]
        if n < 1 or n > _MAX_N:
            raise _bad("X", where, f"an array with 1 to {_MAX_N} columns", f"{n} columns")
        if X.shape[0] == 0:
            raise _bad("X", where, "a non-empty array", "0 samples")
        rng = np.random.default_rng(self.rng)
        self.n_features_in_ = n
        self._nodes: list = []
        self._ops: list = []
        self._top = list(range(n))
        ones = int(y.sum())
        self._default = 1 if 2 * ones > y.size else 0
        V, lab = self._dedupe(X, y, where)
        self._set_table(V, lab)
        self._fitted = True
        while len(self._top) > 1 and (self.max_ops is None or len(self._ops) < self.max_ops):
            cand = self._candidates(V, lab)
            if cand is None:
                break
            V, lab = self._apply(V, lab, cand, rng)
            if callback is not None:
                callback(self, self._ops[-1])
        return self

    def refit_table(self, X, y):
        """Keep the hidden structure frozen and rebuild only the top table from ``(X, y)``.

        This is the down-sweep of the hysteresis protocol (spec §6). Inputs that map to the same
        top pattern with different labels are resolved by majority (ties: 0); their number is
        stored in ``table_conflicts_``.
        """
        where = "LUTNetwork.refit_table"
        self._require_fitted("refit_table")
        X = _as_binary_matrix(X, where)
        y = _as_binary_vector(y, X.shape[0], where)
        if X.shape[1] != self.n_features_in_:
            raise _bad("X", where, f"an array with {self.n_features_in_} columns", f"{X.shape[1]} columns")
        codes = _codes(self._top_values(X))
        uniq, inv = np.unique(codes, return_inverse=True)
        ones = np.bincount(inv, weights=y, minlength=uniq.size)
        cnt = np.bincount(inv, minlength=uniq.size)
        lab = (2 * ones > cnt).astype(np.int8)
        self.table_conflicts_ = int(((ones > 0) & (ones < cnt)).sum())
        self._table_codes, self._table_labels = uniq.astype(np.int64), lab
        self._default = 1 if 2 * int(y.sum()) > y.size else 0
        return self

    # ---- prediction ---------------------------------------------------------------------
    def transform(self, X):
        """Values of the top variables, shape ``(n_samples, n_top)``."""
        self._require_fitted("transform")
        X = _as_binary_matrix(X, "LUTNetwork.transform")
        if X.shape[1] != self.n_features_in_:
            raise _bad("X", "LUTNetwork.transform", f"an array with {self.n_features_in_} columns",
                       f"{X.shape[1]} columns")
        return self._top_values(X)

    def predict(self, X):
        """Evaluate hidden nodes bottom-up, then look up the top table (unseen: majority label)."""
        T = self.transform(X)
        return self._lookup(_codes(T))

    def seen_mask(self, X):
        """Whether each input's top pattern is specified in the top table (its 'coverage')."""
        codes = _codes(self.transform(X))
        pos = np.searchsorted(self._table_codes, codes)
        pos = np.minimum(pos, max(self._table_codes.size - 1, 0))
        return (self._table_codes.size > 0) & (self._table_codes[pos] == codes)

    # ---- internals ----------------------------------------------------------------------
    def _require_fitted(self, what):
        if not getattr(self, "_fitted", False):
            raise InvalidParameterError(
                f"This LUTNetwork is not fitted yet: call fit(X, y) before {what}.")

    def _top_values(self, X):
        n = self.n_features_in_
        vals = {}
        for k, (a, b, tab) in enumerate(self._nodes):
            va = X[:, a] if a < n else vals[a]
            vb = X[:, b] if b < n else vals[b]
            vals[n + k] = np.asarray(tab, dtype=np.uint8)[2 * va + vb]
        cols = [X[:, t] if t < n else vals[t] for t in self._top]
        if not cols:
            return np.zeros((X.shape[0], 0), dtype=np.uint8)
        return np.stack(cols, axis=1).astype(np.uint8, copy=False)

    def _lookup(self, codes):
        out = np.full(codes.shape, self._default, dtype=np.int8)
        if self._table_codes.size:
            pos = np.searchsorted(self._table_codes, codes)
            pos = np.minimum(pos, self._table_codes.size - 1)
            hit = self._table_codes[pos] == codes
            out[hit] = self._table_labels[pos[hit]]
        return out

    @staticmethod
    def _dedupe(V, lab, where="LUTNetwork.fit"):
        codes = _codes(V)
        uniq, first, inv = np.unique(codes, return_index=True, return_inverse=True)
        if uniq.size != codes.size:
            lab_u = lab[first]
            if not (lab_u[inv] == lab).all():
                raise InvalidParameterError(
                    f"The 'y' parameter of {where} must give one label per distinct input: the "
                    "training data contain the same input with two labels, which a lookup table "
                    "cannot store with zero training error. Remove the contradictory samples.")
            return V[first], lab_u
        return V, lab

    def _set_table(self, V, lab):
        codes = _codes(V)
        order = np.argsort(codes, kind="stable")
        self._table_codes = codes[order]
        self._table_labels = lab[order].astype(np.int8)

    def _candidates(self, V, lab):
        """All valid operations as arrays; ``None`` when there is none."""
        m = V.shape[1]
        codes = _codes(V)
        w = np.left_shift(np.int64(1), np.arange(m, dtype=np.int64))
        # --- splits: every pair (u, v) -------------------------------------------------
        iu, iv = np.triu_indices(m, 1)
        cand = []
        if iu.size:
            keys = codes[None, :] & ~(w[iu] | w[iv])[:, None]
            rows = 2 * V[:, iu].T.astype(np.int64) + V[:, iv].T
            agree, conflict, defined = _chart_stats(keys, rows, lab, 4)
            for name, table, pairs, classes in _PARTITIONS:
                idx = [_RP_INDEX[p] for p in pairs]
                ok = (conflict[:, idx] == 0).all(1) & (agree[:, idx] >= self.min_support).all(1)
                if not ok.any():
                    continue
                sup = agree[:, idx].sum(1)
                # specified entries after the merge: (column, class) cells with a defined row
                cells = sum((defined[:, :, list(c)].any(2)).sum(1) for c in classes)
                for q in np.flatnonzero(ok):
                    cand.append(("split", int(iu[q]), int(iv[q]), name, table, int(sup[q]), int(cells[q])))
        # --- drops ----------------------------------------------------------------------
        keys = codes[None, :] & ~w[:, None]
        rows = V.T.astype(np.int64)
        agree, conflict, defined = _chart_stats(keys, rows, lab, 2)
        ok = (conflict[:, 0] == 0) & (agree[:, 0] >= self.min_support)
        cells = defined.any(2).sum(1)
        for u in np.flatnonzero(ok):
            cand.append(("drop", int(u), -1, "drop", (), int(agree[u, 0]), int(cells[u])))
        return cand or None

    def _apply(self, V, lab, cand, rng):
        m = V.shape[1]
        if self.score == "support":
            scores = np.array([c[5] for c in cand], dtype=float)
        else:  # 'mdl': minimise full-table length, then specified entries
            full = np.array([2 ** (m - 1) + (4 if c[0] == "split" else 0) for c in cand], dtype=float)
            cells = np.array([c[6] for c in cand], dtype=float)
            # lexicographic: the full-table length dominates (cells < 2 * P + 8 always)
            scores = -(full * float(2 * V.shape[0] + 8) + cells)
        best = np.flatnonzero(scores == scores.max())
        kind, u, v, name, table, sup, cells = cand[int(best[rng.integers(best.size)])]
        n = self.n_features_in_
        if kind == "split":
            hv = np.asarray(table, dtype=np.uint8)[2 * V[:, u] + V[:, v]]
            keep = [j for j in range(m) if j not in (u, v)]
            node_id = n + len(self._nodes)
            self._nodes.append((self._top[u], self._top[v], np.asarray(table, dtype=np.uint8)))
            inputs = (self._top[u], self._top[v])
            self._top = [self._top[j] for j in keep] + [node_id]
            V = np.concatenate([V[:, keep], hv[:, None]], axis=1)
        else:
            keep = [j for j in range(m) if j != u]
            node_id = None
            inputs = (self._top[u],)
            self._top = [self._top[j] for j in keep]
            V = V[:, keep]
        V, lab = self._dedupe(V, lab, "LUTNetwork._apply")  # raises only on an internal bug
        self._set_table(V, lab)
        self._ops.append(LUTOperation(
            step=len(self._ops), kind=kind, inputs=inputs, partition=name,
            table=tuple(int(t) for t in table), node=node_id, support=sup,
            score=float(scores[best[0]]), n_candidates=len(cand), m_after=V.shape[1],
            n_patterns_after=int(V.shape[0])))
        return V, lab

    def __repr__(self):
        return (f"LUTNetwork(min_support={self.min_support}, score={self.score!r}, "
                f"rng={self.rng!r}, max_ops={self.max_ops!r})")


def _chart_stats(keys, rows, lab, nrows):
    """Witness and conflict counts of every row pair, for a batch of decomposition charts.

    ``keys[q, i]`` is the column (pattern of the other variables) of distinct training pattern
    ``i`` in chart ``q`` and ``rows[q, i]`` its row. Returns ``agree[q, p]``, ``conflict[q, p]`` for
    the row pairs ``p`` (``_ROW_PAIRS`` for 4 rows, the single pair (0, 1) for 2 rows) and the
    boolean ``defined[q, column, row]`` cells.
    """
    Q, Pd = keys.shape
    order = np.argsort(keys * nrows + rows, axis=1, kind="stable")
    ks = np.take_along_axis(keys, order, 1)
    rs = np.take_along_axis(rows, order, 1)
    ls = lab[order]
    newcol = np.ones((Q, Pd), dtype=bool)
    newcol[:, 1:] = ks[:, 1:] != ks[:, :-1]
    col = np.cumsum(newcol, axis=1) - 1
    T = np.full((Q, Pd, nrows), -1, dtype=np.int8)
    T[np.arange(Q)[:, None], col, rs] = ls
    D = T >= 0
    pairs = _ROW_PAIRS if nrows == 4 else ((0, 1),)
    agree = np.empty((Q, len(pairs)), dtype=np.int64)
    conflict = np.empty((Q, len(pairs)), dtype=np.int64)
    for p, (a, b) in enumerate(pairs):
        both = D[:, :, a] & D[:, :, b]
        eq = T[:, :, a] == T[:, :, b]
        agree[:, p] = (both & eq).sum(1)
        conflict[:, p] = (both & ~eq).sum(1)
    return agree, conflict, D
