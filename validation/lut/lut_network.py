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
import functools
import math
import os
from typing import Callable

import numpy as np

from phasekit._constraints import check_option, check_scalar, invalid_parameter
from phasekit.solvers._pool import map_tasks, resolve_workers
from phasekit._errors import InvalidParameterError

from .._common import SimStats, binomial_estimate, estimate

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
# validation helpers (one message template: phasekit._constraints)
# --------------------------------------------------------------------------------------------
def _as_binary_matrix(X, where):
    X = np.asarray(X)
    if X.ndim != 2:
        raise invalid_parameter("X", where, "a 2-d array of shape (n_samples, n_features)", f"shape {X.shape}")
    if X.size and not np.isin(X, (0, 1)).all():
        raise invalid_parameter("X", where, "a binary array (entries 0/1 or bool)", "non-binary entries")
    return X.astype(np.uint8, copy=False)


def _as_binary_vector(y, n, where):
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != n:
        raise invalid_parameter("y", where, f"a 1-d binary array of length {n}", f"shape {y.shape}")
    if y.size and not np.isin(y, (0, 1)).all():
        raise invalid_parameter("y", where, "a binary array (entries 0/1 or bool)", "non-binary entries")
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
    A drop of a hidden-node variable destroys that node (and any node only it used): such nodes
    no longer count in ``n_hidden`` or the description length; the operation log keeps them.
    The cost of one step is :math:`O(m^2 P \log P)` (a sort of the chart keys for every pair).
    Unseen top patterns are predicted with the training-majority label (ties: 0). Inputs are
    limited to :math:`n \le 62` (patterns are packed in 64-bit integers).

    Examples
    --------
    >>> import numpy as np
    >>> from phasekit.validation.lut.lut_network import LUTNetwork, all_inputs, parity
    >>> rng = np.random.default_rng(0)
    >>> X = all_inputs(8)[rng.choice(256, 60, replace=False)]
    >>> net = LUTNetwork(rng=1).fit(X, parity(8)(X))
    >>> bool((net.predict(X) == parity(8)(X)).all())
    True
    """

    def __init__(self, min_support=1, score="support", rng=None, max_ops=None):
        where = "LUTNetwork"
        self.min_support = check_scalar(min_support, "min_support", where, int, 0)
        self.score = check_option(score, "score", where, _SCORES)
        self.max_ops = None if max_ops is None else check_scalar(max_ops, "max_ops", where, int, 0)
        self.rng = rng
        self._fitted = False

    # ---- public attributes -------------------------------------------------------------
    @property
    def ops_log(self) -> list:
        self._require_fitted("ops_log")
        return list(self._ops)

    @property
    def n_hidden(self) -> int:
        """Number of live hidden nodes (reachable from the top table; a dropped node is destroyed)."""
        self._require_fitted("n_hidden")
        return len(self._live())

    @property
    def n_top(self) -> int:
        self._require_fitted("n_top")
        return len(self._top)

    @property
    def hidden_nodes(self) -> list:
        """``[(node_id, input_a, input_b, table), ...]`` of the live hidden nodes, in creation order."""
        self._require_fitted("hidden_nodes")
        n = self.n_features_in_
        live = self._live()
        return [(n + k, a, b, tuple(int(t) for t in tab)) for k, (a, b, tab) in enumerate(self._nodes)
                if n + k in live]

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
        return 4 * len(self._live()) + int(self._table_codes.size)

    def full_table_length(self) -> int:
        r""":math:`\sum_\text{nodes} 2^{\text{fan-in}}` with full tables (the ``'mdl'`` score's count)."""
        self._require_fitted("full_table_length")
        return 4 * len(self._live()) + 2 ** len(self._top)

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
            raise invalid_parameter("X", where, f"an array with 1 to {_MAX_N} columns", f"{n} columns")
        if X.shape[0] == 0:
            raise invalid_parameter("X", where, "a non-empty array", "0 samples")
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
            raise invalid_parameter("X", where, f"an array with {self.n_features_in_} columns", f"{X.shape[1]} columns")
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
            raise invalid_parameter("X", "LUTNetwork.transform", f"an array with {self.n_features_in_} columns",
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

    def _live(self):
        """Ids of the hidden nodes reachable from the top variables."""
        n = self.n_features_in_
        live, stack = set(), [t for t in self._top if t >= n]
        while stack:
            t = stack.pop()
            if t in live:
                continue
            live.add(t)
            a, b, _ = self._nodes[t - n]
            stack.extend(c for c in (a, b) if c >= n)
        return live

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
            # After any operation the top table has 2^(m-1) full entries; a split adds a 4-entry
            # node, so the full-table length differs only by 4 * [split]. Lexicographic order
            # (full length first) with exact integers: cells <= P < 2P + 8.
            extra = np.array([4 if c[0] == "split" else 0 for c in cand], dtype=np.int64)
            cells = np.array([c[6] for c in cand], dtype=np.int64)
            scores = -(extra * (2 * V.shape[0] + 8) + cells)
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


# --------------------------------------------------------------------------------------------
# Boolean targets
# --------------------------------------------------------------------------------------------
def all_inputs(n):
    """All :math:`2^n` inputs as a ``(2**n, n)`` uint8 array; row ``i`` has ``x_j = (i >> j) & 1``."""
    n = check_scalar(n, "n", "all_inputs", int, 0, 24)
    return _all_inputs_cached(n).copy()


@functools.lru_cache(maxsize=4)
def _all_inputs_cached(n):
    i = np.arange(2**n, dtype=np.int64)
    A = ((i[:, None] >> np.arange(n, dtype=np.int64)) & 1).astype(np.uint8)
    A.flags.writeable = False
    return A


def _eval_tree(node, X):
    if isinstance(node, int):
        return X[:, node].astype(np.uint8)
    gate, left, right, neg_l, neg_r = node
    a = _eval_tree(left, X) ^ np.uint8(neg_l)
    b = _eval_tree(right, X) ^ np.uint8(neg_r)
    return (a & b) if gate == "and" else (a ^ b)


def _tree_str(node):
    if isinstance(node, int):
        return f"x{node}"
    gate, left, right, neg_l, neg_r = node
    a = ("~" if neg_l else "") + _tree_str(left)
    b = ("~" if neg_r else "") + _tree_str(right)
    return f"({a} {'&' if gate == 'and' else '^'} {b})"


@dataclasses.dataclass(frozen=True)
class BooleanTarget:
    """A Boolean target function of ``n`` inputs, callable on a binary ``(P, n)`` array.

    Attributes
    ----------
    name : str
        ``'parity'`` or ``'read_once'``.
    n : int
    variables : tuple of int
        The relevant inputs.
    formula : str
        Human-readable formula.
    tree : object
        Read-once formula tree (nested ``(gate, left, right, neg_left, neg_right)``; ``None`` for parity).
    """

    name: str
    n: int
    variables: tuple
    formula: str
    tree: object = None

    def __call__(self, X):
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != self.n:
            raise invalid_parameter("X", f"BooleanTarget({self.name})", f"a 2-d array with {self.n} columns",
                                    f"shape {X.shape}")
        if self.tree is None:
            return (X[:, list(self.variables)].sum(1) % 2).astype(np.int8)
        return _eval_tree(self.tree, X).astype(np.int8)


def parity(n, S=None):
    """Parity of the inputs ``S`` (default: all ``n`` inputs)."""
    n = check_scalar(n, "n", "parity", int, 1, _MAX_N)
    S = tuple(range(n)) if S is None else tuple(sorted(int(s) for s in S))
    if not S or any(s < 0 or s >= n for s in S) or len(set(S)) != len(S):
        raise invalid_parameter("S", "parity", f"a non-empty set of distinct inputs in [0, {n})", S)
    return BooleanTarget("parity", n, S, " ^ ".join(f"x{s}" for s in S))


def random_read_once(k, n, gates=("and", "xor"), rng=None):
    """Random read-once formula of ``k`` distinct inputs out of ``n``, binary gates drawn from ``gates``.

    A random binary tree (random splits) over a random ordering of ``k`` random inputs; every gate is
    AND or XOR with equal probability (among ``gates``), and every AND input is negated with
    probability 1/2 (so all four AND-like gates occur). AND gates bias the output and make rare
    patterns, so the transition is expected to be broader than for parity (spec §5).
    """
    where = "random_read_once"
    n = check_scalar(n, "n", where, int, 1, _MAX_N)
    k = check_scalar(k, "k", where, int, 1, n)
    gates = tuple(gates)
    if not gates or any(g not in ("and", "xor") for g in gates):
        raise invalid_parameter("gates", where, "a non-empty subset of ('and', 'xor')", gates)
    rng = np.random.default_rng(rng)
    vs = [int(v) for v in rng.choice(n, k, replace=False)]

    def build(items):
        if len(items) == 1:
            return items[0]
        cut = int(rng.integers(1, len(items)))
        g = gates[int(rng.integers(len(gates)))]
        neg = (int(rng.integers(2)), int(rng.integers(2))) if g == "and" else (0, 0)
        return (g, build(items[:cut]), build(items[cut:]), neg[0], neg[1])

    tree = build(vs)
    return BooleanTarget("read_once", n, tuple(sorted(vs)), _tree_str(tree), tree)


# --------------------------------------------------------------------------------------------
# order-parameter statistics
# --------------------------------------------------------------------------------------------
def bimodality_coefficient(x):
    r"""Pearson bimodality coefficient :math:`b = (\gamma_1^2 + 1)/\beta_2` (non-excess kurtosis).

    :math:`b > 5/9` (uniform distribution) signals bimodality; a two-point distribution gives
    exactly 1. Population moments; ``nan`` when the sample has no spread.
    """
    x = np.asarray(x, dtype=float).ravel()
    if x.size < 2:
        return float("nan")
    d = x - x.mean()
    m2 = float(np.mean(d**2))
    if m2 <= 1e-30:
        return float("nan")
    skew = float(np.mean(d**3)) / m2**1.5
    kurt = float(np.mean(d**4)) / m2**2
    return (skew**2 + 1.0) / kurt


def binder_ratio(M):
    r"""Binder-like ratio :math:`U_4 = 1 - \langle M^4\rangle / (3\langle M^2\rangle^2)`.

    ``nan`` if :math:`\langle M^2\rangle = 0`. For :math:`M \in \{0, 1\}` it equals
    :func:`phasekit.theory.lut.binder_two_state`.
    """
    M = np.asarray(M, dtype=float).ravel()
    m2 = float(np.mean(M**2)) if M.size else 0.0
    if m2 <= 1e-30:
        return float("nan")
    return 1.0 - float(np.mean(M**4)) / (3.0 * m2**2)


def mid_fraction(acc, lo=0.6, hi=SUCCESS_THRESHOLD):
    """Fraction of runs with intermediate accuracy, ``lo < acc < hi`` (spec §4.5)."""
    a = np.asarray(acc, dtype=float).ravel()
    return float(np.mean((a > lo) & (a < hi))) if a.size else float("nan")


# --------------------------------------------------------------------------------------------
# one run
# --------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class LUTRun:
    """Outcome of one fit of :class:`LUTNetwork` on ``P`` random distinct inputs.

    Attributes
    ----------
    n, P : int
    target : str
        Target formula.
    accuracy : float
        Accuracy on the unseen inputs (all ``2**n - P`` of them when ``exact``).
    success : bool
        ``accuracy >= SUCCESS_THRESHOLD``.
    n_hidden, n_ops, n_top : int
    description_length : int
        4 per hidden node + specified top entries.
    all_xor : bool
        Every hidden node is XOR-like (spec: full parity never accepts a wrong merge).
    coverage : float
        Fraction of the unseen inputs whose top pattern is specified in the top table.
    baseline : float
        Accuracy of the training-majority constant on the same unseen inputs.
    exact : bool
        Whether the accuracy is over all unseen inputs (``n <= 16``) or a random sample.
    n_test : int
    seed : tuple
        ``(seed, n, P, trial)``: the :class:`numpy.random.SeedSequence` entropy and spawn key.
    """

    n: int
    P: int
    target: str
    accuracy: float
    success: bool
    n_hidden: int
    n_ops: int
    n_top: int
    description_length: int
    all_xor: bool
    coverage: float
    baseline: float
    exact: bool
    n_test: int
    seed: tuple


def _split_seed(seed, n, P, trial, k=3):
    ss = np.random.SeedSequence(entropy=int(seed), spawn_key=(int(n), int(P), int(trial)))
    return [np.random.default_rng(s) for s in ss.spawn(k)]


def _draw_data(n, P, rng, n_test):
    """Training indices without replacement and the test inputs (all unseen ones when n <= 16)."""
    N = 2**n
    if n <= _EXACT_TEST_MAX_N:
        idx = rng.choice(N, P, replace=False)
        A = _all_inputs_cached(n)
        mask = np.ones(N, dtype=bool)
        mask[idx] = False
        return A[idx], A[mask], True
    # large n: distinct training codes, random unseen test codes
    codes = np.unique(rng.integers(0, N, size=2 * P + 16, dtype=np.int64))
    codes = rng.permutation(codes)[:P]
    while codes.size < P:  # pragma: no cover - astronomically unlikely for n > 16
        codes = np.unique(np.concatenate([codes, rng.integers(0, N, size=P, dtype=np.int64)]))[:P]
    test = rng.integers(0, N, size=n_test, dtype=np.int64)
    test = test[~np.isin(test, codes)]
    bits = np.arange(n, dtype=np.int64)
    return (((codes[:, None] >> bits) & 1).astype(np.uint8),
            ((test[:, None] >> bits) & 1).astype(np.uint8), False)


def _make_target(target, n, rng):
    if isinstance(target, BooleanTarget):
        if target.n != n:
            raise invalid_parameter("target", "simulate_fit", f"a BooleanTarget with n = {n}", target.n)
        return target
    if target == "parity":
        return parity(n)
    if target == "read_once":
        return random_read_once(n, n, rng=rng)
    raise invalid_parameter("target", "simulate_fit", "'parity', 'read_once' or a BooleanTarget", target)


def simulate_fit(n, P, *, target="parity", min_support=1, score="support", seed=0, trial=0,
                 n_test=65536):
    """Fit one :class:`LUTNetwork` on ``P`` distinct random inputs and measure it on the unseen ones.

    Parameters
    ----------
    n : int, 2..62
    P : int, 1..2**n - 1
    target : {'parity', 'read_once'} or BooleanTarget
        ``'read_once'`` draws a random read-once AND/XOR formula of all ``n`` inputs per trial.
    min_support, score
        Passed to :class:`LUTNetwork`.
    seed, trial : int
        The run uses ``SeedSequence(seed, spawn_key=(n, P, trial))``: deterministic per
        ``(n, P, trial)``, independent of how a scan is split over processes.
    n_test : int
        Number of random test inputs when ``n > 16`` (otherwise all unseen inputs are used).

    Returns
    -------
    LUTRun
    """
    where = "simulate_fit"
    n = check_scalar(n, "n", where, int, 2, _MAX_N)
    P = check_scalar(P, "P", where, int, 1, 2**n - 1)
    r_data, r_target, r_net = _split_seed(seed, n, P, trial)
    f = _make_target(target, n, r_target)
    Xtr, Xte, exact = _draw_data(n, P, r_data, n_test)
    ytr, yte = f(Xtr), f(Xte)
    net = LUTNetwork(min_support=min_support, score=score, rng=r_net).fit(Xtr, ytr)
    acc = float(np.mean(net.predict(Xte) == yte)) if yte.size else float("nan")
    return LUTRun(
        n=n, P=P, target=f.formula if f.name != "parity" else "parity", accuracy=acc,
        success=bool(acc >= SUCCESS_THRESHOLD), n_hidden=net.n_hidden, n_ops=len(net._ops),
        n_top=net.n_top, description_length=net.description_length(),
        all_xor=all(op.partition == "xor" for op in net._ops if op.kind == "split"),
        coverage=float(np.mean(net.seen_mask(Xte))) if yte.size else float("nan"),
        baseline=float(np.mean(yte == net._default)) if yte.size else float("nan"),
        exact=exact, n_test=int(yte.size), seed=(int(seed), n, P, int(trial)))


def _run_task(args):
    n, P, trial, kw = args
    return simulate_fit(n, P, trial=trial, **kw)


def _default_processes():
    try:
        return max(1, min(2, len(os.sched_getaffinity(0))))
    except AttributeError:  # pragma: no cover
        return max(1, min(2, os.cpu_count() or 1))


def _parallel_map(func, tasks, workers, progress, desc):
    """``[func(t) for t in tasks]`` over ``workers`` processes (default ``min(2, cores)``), with a
    tqdm bar: :func:`phasekit.solvers._pool.map_tasks`."""
    workers = _default_processes() if workers is None else workers
    return map_tasks(func, tasks, workers=workers, progress=progress, desc=desc, where=desc)


# --------------------------------------------------------------------------------------------
# transition scans
# --------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class ScanPoint:
    """Statistics of ``n_seeds`` runs at one ``(n, P)``.

    Attributes
    ----------
    n, P : int
    ratio : float
        ``P / P_c(n)`` with the parity nucleation scale :func:`phasekit.theory.lut.p_critical`.
    accuracy : SimStats
        Mean unseen-input accuracy.
    p_perfect : SimStats
        Fraction of runs with accuracy >= ``SUCCESS_THRESHOLD`` (binomial error).
    p_nucleated : SimStats
        Fraction of runs with at least one operation (the first merge nucleated), binomial error.
    mid_fraction : float
        Fraction with 0.6 < accuracy < 0.999.
    low_fraction : float
        Fraction with accuracy <= 0.6.
    bimodality : float
        Bimodality coefficient of the accuracies (``nan`` without spread).
    binder : float
        Binder-like ratio of ``M = 2 acc - 1``.
    description_length : SimStats
    all_xor : bool
        Every hidden node of every run is XOR-like.
    histogram : tuple
        Counts of the accuracies in 20 bins on [0, 1].
    accuracies, description_lengths : tuple
        The raw per-run values, in trial order.
    status : str
        ``'ok'``, or ``'degenerate'`` when the bimodality coefficient is undefined (no spread).
    """

    n: int
    P: int
    ratio: float
    n_seeds: int
    accuracy: SimStats
    p_perfect: SimStats
    p_nucleated: SimStats
    mid_fraction: float
    low_fraction: float
    bimodality: float
    binder: float
    description_length: SimStats
    all_xor: bool
    histogram: tuple
    accuracies: tuple
    description_lengths: tuple
    status: str


HIST_EDGES = tuple(np.linspace(0.0, 1.0, 21))


def _summarize(n, P, runs, seed):
    from phasekit.theory.lut.lut import p_critical
    acc = np.array([r.accuracy for r in runs])
    dl = np.array([r.description_length for r in runs], dtype=float)
    succ = int(np.sum(acc >= SUCCESS_THRESHOLD))
    b = bimodality_coefficient(acc)
    return ScanPoint(
        n=n, P=P, ratio=P / p_critical(n), n_seeds=len(runs), accuracy=estimate(acc, seed=seed),
        p_perfect=binomial_estimate(succ, len(runs), seed=seed),
        p_nucleated=binomial_estimate(sum(r.n_ops > 0 for r in runs), len(runs), seed=seed),
        mid_fraction=mid_fraction(acc),
        low_fraction=float(np.mean(acc <= 0.6)), bimodality=b, binder=binder_ratio(2 * acc - 1),
        description_length=estimate(dl, seed=seed), all_xor=all(r.all_xor for r in runs),
        histogram=tuple(int(c) for c in np.histogram(acc, bins=np.array(HIST_EDGES))[0]),
        accuracies=tuple(float(a) for a in acc), description_lengths=tuple(int(d) for d in dl),
        status="ok" if np.isfinite(b) else "degenerate")


@dataclasses.dataclass(frozen=True)
class TransitionScan:
    """A grid of :class:`ScanPoint` (one per ``(n, P)``), with the parameters it was run at."""

    points: tuple
    target: str
    min_support: int
    score: str
    n_seeds: int
    seed: int

    def rows(self) -> list:
        """Flat rows (dicts) for a CSV table, with the nucleation theory alongside."""
        from phasekit.theory.lut import lut as th
        out = []
        for p in self.points:
            out.append(dict(
                n=p.n, P=p.P, ratio=p.ratio, a=math.log2(p.P) / p.n, n_seeds=p.n_seeds,
                acc_mean=p.accuracy.mean, acc_err=p.accuracy.error_of_mean,
                p_perfect=p.p_perfect.mean, p_perfect_err=p.p_perfect.error_of_mean,
                p_nucleated=p.p_nucleated.mean,
                p_success_theory=th.p_success(p.n, p.P), p_weibull=th.p_success_weibull(p.n, p.P),
                p_cascade=th.p_success_cascade(p.n, p.P),
                mid_fraction=p.mid_fraction, low_fraction=p.low_fraction, bimodality=p.bimodality,
                binder=p.binder, dl_mean=p.description_length.mean,
                dl_err=p.description_length.error_of_mean, all_xor=p.all_xor, status=p.status))
        return out


def transition_scan(ns, Ps=None, *, ratios=None, n_seeds=60, target="parity", min_support=1,
                    score="support", seed=0, workers=None, progress=True, processes=None):
    """Scan the (n, P) plane: ``n_seeds`` independent runs per point, parallel over processes.

    Parameters
    ----------
    ns : sequence of int
    Ps : sequence of int, optional
        Sample sizes, the same for every ``n``; or give ``ratios``.
    ratios : sequence of float, optional
        ``P = round(r * P_c(n))`` (parity nucleation scale), clipped to ``[2, 2**n - 1]``.
    n_seeds : int
    target, min_support, score : see :func:`simulate_fit`.
    seed : int
        Run ``(n, P, trial)`` uses ``SeedSequence(seed, spawn_key=(n, P, trial))``.
    workers : int, optional
        Worker processes (default ``min(2, available cores)``; 1: in this process). ``processes``
        is its deprecated name.
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    TransitionScan
    """
    from phasekit.theory.lut.lut import p_critical
    where = "transition_scan"
    ns = [check_scalar(n, "ns", where, int, 2, _MAX_N) for n in np.atleast_1d(ns).tolist()]
    if (Ps is None) == (ratios is None):
        raise invalid_parameter("Ps", where, "given, or 'ratios' given, but not both", Ps)
    n_seeds = check_scalar(n_seeds, "n_seeds", where, int, 1)
    grid = []
    for n in ns:
        if Ps is not None:
            Pn = [check_scalar(int(P), "Ps", where, int, 1, 2**n - 1) for P in np.atleast_1d(Ps).tolist()]
        else:
            Pn = [int(min(max(round(r * p_critical(n)), 2), 2**n - 1)) for r in np.atleast_1d(ratios)]
        for P in Pn:
            grid.append((n, P))
    kw = dict(target=target, min_support=min_support, score=score, seed=seed)
    tasks = [(n, P, t, kw) for (n, P) in grid for t in range(n_seeds)]
    runs = _parallel_map(_run_task, tasks, resolve_workers(where, workers, processes=processes), progress, where)
    points = []
    for g, (n, P) in enumerate(grid):
        points.append(_summarize(n, P, runs[g * n_seeds:(g + 1) * n_seeds], seed))
    tname = target if isinstance(target, str) else target.formula
    return TransitionScan(points=tuple(points), target=tname, min_support=min_support,
                          score=score, n_seeds=n_seeds, seed=int(seed))


# --------------------------------------------------------------------------------------------
# hysteresis (spec §6)
# --------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class HysteresisResult:
    """Frozen-structure down-sweep versus fresh fits (spec §6).

    Attributes
    ----------
    n, P_up : int
        Dimension and the up-sweep sample size (``round(up_ratio * P_c)``).
    up_success : SimStats
        Fraction of the fresh fits at ``P_up`` that completed (accuracy 1, one top variable): the
        structures that are then frozen.
    P_down : tuple of int
        Down-sweep sample sizes.
    frozen_success : tuple of SimStats
        Per ``P_down``: success fraction of the frozen structure refitted (top table only) on a
        random subset of size ``P_down`` of its training data, over the completed up-fits.
    fresh_success : tuple of SimStats
        Per ``P_down``: success fraction of a fresh fit on the *same* subsets.
    frozen_theory, fresh_theory, fresh_cascade : tuple of float
        :math:`1 - 2^{1-P'}`, :math:`P_\\text{success}(n, P')` (nucleation) and the
        growth-corrected :func:`phasekit.theory.lut.p_success_cascade`.
    frozen_accuracy, fresh_accuracy : tuple of SimStats
        Mean unseen-input accuracies (unseen with respect to the subset).
    seed : int
    """

    n: int
    P_up: int
    up_success: SimStats
    P_down: tuple
    frozen_success: tuple
    fresh_success: tuple
    frozen_theory: tuple
    fresh_theory: tuple
    fresh_cascade: tuple
    frozen_accuracy: tuple
    fresh_accuracy: tuple
    seed: int

    def rows(self) -> list:
        from phasekit.theory.lut.lut import p_critical
        pc = p_critical(self.n)
        return [dict(n=self.n, P_up=self.P_up, P_down=P, ratio_down=P / pc,
                     frozen=fz.mean, frozen_err=fz.error_of_mean, frozen_theory=ft,
                     fresh=fr.mean, fresh_err=fr.error_of_mean, fresh_theory=rt, fresh_cascade=rc,
                     frozen_acc=fa.mean, fresh_acc=ra.mean, n_structures=fz.n_samples,
                     up_success=self.up_success.mean)
                for P, fz, fr, ft, rt, rc, fa, ra in zip(self.P_down, self.frozen_success,
                                                         self.fresh_success, self.frozen_theory,
                                                         self.fresh_theory, self.fresh_cascade,
                                                         self.frozen_accuracy, self.fresh_accuracy)]


def _hysteresis_task(args):
    n, P_up, P_downs, trial, seed, kw = args
    r_data, r_net, r_sub = _split_seed(seed, n, P_up, trial)
    f = parity(n)
    N = 2**n
    A = _all_inputs_cached(n)
    idx = r_data.choice(N, P_up, replace=False)
    y = f(A)
    net = LUTNetwork(rng=r_net, **kw).fit(A[idx], y[idx])
    mask = np.ones(N, dtype=bool)
    mask[idx] = False
    up_acc = float(np.mean(net.predict(A[mask]) == y[mask]))
    complete = bool(up_acc >= SUCCESS_THRESHOLD and net.n_top == 1)
    out = []
    for Pd in P_downs:
        sub = r_sub.choice(idx, Pd, replace=False)
        m2 = np.ones(N, dtype=bool)
        m2[sub] = False
        if complete:
            net.refit_table(A[sub], y[sub])
            frozen = float(np.mean(net.predict(A[m2]) == y[m2]))
        else:
            frozen = float("nan")
        fresh_net = LUTNetwork(rng=r_net, **kw).fit(A[sub], y[sub])
        fresh = float(np.mean(fresh_net.predict(A[m2]) == y[m2]))
        out.append((frozen, fresh))
    return complete, out


def hysteresis(n, *, up_ratio=1.5, down_ratios=(0.5,), P_down=None, n_seeds=60, min_support=1,
               score="support", seed=0, workers=None, progress=True, processes=None):
    """Hysteresis protocol of the spec §6 on the full parity of ``n <= 16`` inputs.

    1. Up-sweep: fit at ``P_up = round(up_ratio * P_c(n))``; keep the completed structures
       (accuracy 1 and a single top variable, the full parity).
    2. Down-sweep: freeze the hidden structure, shrink the data to a random subset of size
       ``P' = round(r * P_c(n))`` for each ``r`` in ``down_ratios``, refit only the top table
       (:meth:`LUTNetwork.refit_table`). Predicted success: :math:`1 - 2^{1-P'}`.
    3. Fresh fit on the same subset. Predicted success: :math:`P_\\text{success}(n, P')`.

    ``P_down`` (explicit sizes) replaces ``down_ratios`` when given.

    Returns
    -------
    HysteresisResult
    """
    from phasekit.theory.lut.lut import p_critical, p_frozen_success, p_success, p_success_cascade
    where = "hysteresis"
    n = check_scalar(n, "n", where, int, 3, _EXACT_TEST_MAX_N)
    n_seeds = check_scalar(n_seeds, "n_seeds", where, int, 1)
    pc = p_critical(n)
    P_up = int(min(round(up_ratio * pc), 2**n - 1))
    if P_down is not None:
        P_downs = tuple(check_scalar(int(P), "P_down", where, int, 1, P_up) for P in np.atleast_1d(P_down))
    else:
        P_downs = tuple(int(min(max(round(r * pc), 1), P_up)) for r in np.atleast_1d(down_ratios))
    kw = dict(min_support=min_support, score=score)
    tasks = [(n, P_up, P_downs, t, int(seed), kw) for t in range(n_seeds)]
    res = _parallel_map(_hysteresis_task, tasks, resolve_workers(where, workers, processes=processes), progress, where)
    ok = np.array([r[0] for r in res], dtype=bool)
    fz_s, fr_s, fz_a, fr_a = [], [], [], []
    for k in range(len(P_downs)):
        fz = np.array([r[1][k][0] for r, o in zip(res, ok) if o])
        fr = np.array([r[1][k][1] for r, o in zip(res, ok) if o])
        fz_s.append(binomial_estimate(int(np.sum(fz >= SUCCESS_THRESHOLD)), fz.size, seed=seed))
        fr_s.append(binomial_estimate(int(np.sum(fr >= SUCCESS_THRESHOLD)), fr.size, seed=seed))
        fz_a.append(estimate(fz, seed=seed))
        fr_a.append(estimate(fr, seed=seed))
    return HysteresisResult(
        n=n, P_up=P_up, up_success=binomial_estimate(int(ok.sum()), ok.size, seed=seed),
        P_down=P_downs, frozen_success=tuple(fz_s), fresh_success=tuple(fr_s),
        frozen_theory=tuple(float(p_frozen_success(P)) for P in P_downs),
        fresh_theory=tuple(float(p_success(n, P)) for P in P_downs),
        fresh_cascade=tuple(float(p_success_cascade(n, P)) for P in P_downs),
        frozen_accuracy=tuple(fz_a), fresh_accuracy=tuple(fr_a), seed=int(seed))


# --------------------------------------------------------------------------------------------
# topological time (spec §4.3)
# --------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class TrajectoryResult:
    """Unseen-input accuracy after each operation, grouped by the number ``m`` of top variables.

    Attributes
    ----------
    n, P : int
    m : tuple of int
        Numbers of top variables, from ``n`` (no operation yet) down to 1.
    accuracy : tuple of SimStats
        Mean accuracy over the successful runs at each ``m``.
    coverage : tuple of SimStats
        Fraction of the unseen inputs whose top pattern is specified.
    theory_accuracy : tuple of float
        :math:`\\tfrac12 + \\mathrm{coverage}(m)/2` with :math:`1 - (1-2^{-m})^P`.
    n_runs, n_successful : int
    trajectories : tuple of tuple
        Per successful run, the accuracies after each operation (index 0: before any).
    seed : int
    """

    n: int
    P: int
    m: tuple
    accuracy: tuple
    coverage: tuple
    theory_accuracy: tuple
    n_runs: int
    n_successful: int
    trajectories: tuple
    seed: int

    def rows(self) -> list:
        from phasekit.theory.lut.lut import coverage as cov
        return [dict(n=self.n, P=self.P, m=m, ops_done=self.n - m, acc=a.mean, acc_err=a.error_of_mean,
                     coverage=c.mean, coverage_theory=float(cov(m, self.P)), acc_theory=t,
                     n_runs=a.n_samples)
                for m, a, c, t in zip(self.m, self.accuracy, self.coverage, self.theory_accuracy)]


def _trajectory_task(args):
    n, P, trial, seed, kw = args
    r_data, _, r_net = _split_seed(seed, n, P, trial)
    f = parity(n)
    Xtr, Xte, _ = _draw_data(n, P, r_data, 0)
    ytr, yte = f(Xtr), f(Xte)
    accs, covs, ms = [], [], []

    def cb(net, op):
        accs.append(float(np.mean(net.predict(Xte) == yte)))
        covs.append(float(np.mean(net.seen_mask(Xte))))
        ms.append(net.n_top)

    net = LUTNetwork(rng=r_net, max_ops=0, **kw).fit(Xtr, ytr)
    cb(net, None)
    net = LUTNetwork(rng=r_net, **kw).fit(Xtr, ytr, callback=cb)
    return ms, accs, covs


def topological_trajectory(n, P, *, n_runs=20, min_support=1, score="support", seed=0,
                           workers=None, progress=True, processes=None):
    """Accuracy after each operation ("topological time") on full parity, versus the coverage law.

    Successful runs only (those that end with one top variable and accuracy 1), so that every
    operation is an XOR merge and ``m`` runs from ``n`` to 1.

    Returns
    -------
    TrajectoryResult
    """
    from phasekit.theory.lut.lut import accuracy_topological
    where = "topological_trajectory"
    n = check_scalar(n, "n", where, int, 2, _EXACT_TEST_MAX_N)
    P = check_scalar(P, "P", where, int, 1, 2**n - 1)
    n_runs = check_scalar(n_runs, "n_runs", where, int, 1)
    kw = dict(min_support=min_support, score=score)
    res = _parallel_map(_trajectory_task, [(n, P, t, int(seed), kw) for t in range(n_runs)],
                        resolve_workers(where, workers, processes=processes), progress, where)
    good = [r for r in res if r[0][-1] == 1 and r[1][-1] >= SUCCESS_THRESHOLD and len(r[0]) == n]
    ms = tuple(range(n, 0, -1))
    acc, cov = [], []
    for k, m in enumerate(ms):
        acc.append(estimate([r[1][k] for r in good], seed=seed))
        cov.append(estimate([r[2][k] for r in good], seed=seed))
    return TrajectoryResult(
        n=n, P=P, m=ms, accuracy=tuple(acc), coverage=tuple(cov),
        theory_accuracy=tuple(float(accuracy_topological(m, P)) for m in ms), n_runs=n_runs,
        n_successful=len(good), trajectories=tuple(tuple(r[1]) for r in good), seed=int(seed))


# --------------------------------------------------------------------------------------------
# GF(2) parity learner (spec §4.4)
# --------------------------------------------------------------------------------------------
def gf2_rank(M):
    """Rank over GF(2) of a binary matrix (rows packed in Python ints, XOR basis)."""
    M = _as_binary_matrix(M, "gf2_rank")
    codes = (_codes(M).tolist() if M.shape[1] <= _MAX_N else
             [int("".join(str(int(b)) for b in row[::-1]) or "0", 2) for row in M])
    return gf2_rank_of_codes(codes)


def gf2_rank_of_codes(codes):
    """Rank over GF(2) of rows given as packed Python ints (XOR basis by leading bit)."""
    basis = {}
    for code in codes:
        v = int(code)
        while v:
            h = v.bit_length() - 1
            if h in basis:
                v ^= basis[h]
            else:
                basis[h] = v
                break
    return len(basis)


def _gf2_random_solution(rows, labels, n, rng):
    """A uniformly random s with parity(row & s) = label for all rows; (s, rank)."""
    varmask = (1 << n) - 1
    basis = {}
    for code, lab in zip(rows, labels):
        v = int(code) | (int(lab) << n)
        while v & varmask:
            h = (v & varmask).bit_length() - 1
            if h in basis:
                v ^= basis[h]
            else:
                basis[h] = v
                break
        else:
            if v:  # 0 = 1: inconsistent data (cannot happen for a parity target)
                raise RuntimeError("inconsistent GF(2) system")
    free = [j for j in range(n) if j not in basis]
    s = 0
    for j in free:
        if rng.integers(2):
            s |= 1 << j
    for h in sorted(basis):
        row = basis[h]
        rest = row & varmask & ~(1 << h)
        bit = ((row >> n) & 1) ^ (bin(rest & s).count("1") & 1)
        if bit:
            s |= 1 << h
    return s, len(basis)


@dataclasses.dataclass(frozen=True)
class GF2Simulation:
    """Simulation of the GF(2) parity learner on ``n_trials`` i.i.d. uniform ``P x n`` examples.

    Attributes
    ----------
    n, P, n_trials : int
    full_rank : SimStats
        Fraction of example matrices of full rank ``n`` (binomial error).
    success : SimStats
        Fraction of trials where the random consistent parity is the target.
    error : SimStats
        Mean generalization error over the uniform input distribution (exact per trial for
        ``n <= 16``: every output's accuracy is computed on all ``2**n`` inputs).
    rank_counts : tuple of int
        Histogram of the rank, ``r = 0..min(n, P)``.
    accuracy_values : tuple of float
        The distinct per-trial accuracies observed (exact bimodality: a subset of {0.5, 1.0}).
    seed : int
    """

    n: int
    P: int
    n_trials: int
    full_rank: SimStats
    success: SimStats
    error: SimStats
    rank_counts: tuple
    accuracy_values: tuple
    seed: int


def simulate_gf2_learner(n, P, *, n_trials=4000, seed=0):
    """Simulate the global GF(2) learner on the full parity of ``n <= 16`` inputs.

    Each trial draws ``P`` i.i.d. uniform inputs, labels them with the full parity, outputs a
    uniformly random parity consistent with them, and measures its accuracy exactly on all
    ``2**n`` inputs.
    """
    where = "simulate_gf2_learner"
    n = check_scalar(n, "n", where, int, 1, _EXACT_TEST_MAX_N)
    P = check_scalar(P, "P", where, int, 0)
    n_trials = check_scalar(n_trials, "n_trials", where, int, 1)
    rng = np.random.default_rng(np.random.SeedSequence(entropy=int(seed), spawn_key=(n, P)))
    target = (1 << n) - 1
    xs = np.arange(2**n, dtype=np.int64)
    acc_cache = {0: 1.0}
    ranks = np.empty(n_trials, dtype=np.int64)
    accs = np.empty(n_trials)
    for t in range(n_trials):
        rows = rng.integers(0, 2**n, size=P, dtype=np.int64).tolist()
        labels = [bin(r).count("1") & 1 for r in rows]
        s, r = _gf2_random_solution(rows, labels, n, rng)
        d = s ^ target
        if d not in acc_cache:
            acc_cache[d] = 1.0 - float(np.mean(np.bitwise_count(xs & d) & 1))
        ranks[t] = r
        accs[t] = acc_cache[d]
    full = int(np.sum(ranks == n))
    succ = int(np.sum(accs == 1.0))
    return GF2Simulation(
        n=n, P=P, n_trials=n_trials, full_rank=binomial_estimate(full, n_trials, seed=seed),
        success=binomial_estimate(succ, n_trials, seed=seed), error=estimate(1.0 - accs, seed=seed),
        rank_counts=tuple(int(c) for c in np.bincount(ranks, minlength=min(n, P) + 1)),
        accuracy_values=tuple(sorted(set(float(a) for a in accs))), seed=int(seed))
