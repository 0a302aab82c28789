"""Activity factors of a layer from value histograms or from the values themselves (COST_MODEL.md §2.2).

The reference simulator (CiMLoop's NeuroSim plug-in) charges cell and row-driver energy in proportion to two
dimensionless activity factors in [0, 1]: ``ain``, the mean input value, and ``aw(bpc)``, the mean weight value
at ``bpc`` = 1..8 bits per cell. It derives them from a value histogram of each operand:

* **offset encoding** — a histogram has n = 2^k - 1 bins, symmetric and zero-centred; bin i (0 = most negative,
  centre = zero) is encoded as the unsigned k-bit integer i, most significant bit first, so zero sits at
  mid-scale;
* **8-bit operands** — the operand has T = 8 bits; code bits beyond the k-th (a histogram coarser than 8 bits)
  count as 0.5;
* **slicing** — the 8 bits are cut into slices of b bits (b = 8 for inputs, b = bpc for weights), the last one
  shorter (T mod b bits) when b does not divide 8. With full = 2^b - 1 (the largest slice's full scale), bit j
  (0 = MSB) of a b_s-bit slice weighs 2^(b_s - j - 1) / full; the value is the mean over slices of
  sum_bins p_i * sum_bits(bit * weight). A short last slice normalised by the full slice scale is why aw dips at
  bpc = 3, 5, 6, 7.

Every function is vectorised over layers. To get factors from a model's own tensors, :func:`symmetric_histogram`
quantises the values to an n-bin symmetric histogram over [-max|v|, max|v|] (n = 255 by default: 8-bit
quantisation, every code bit real) and the same encoding applies.
"""

from __future__ import annotations

import numpy as np

#: Bits of every operand (inputs, weights, outputs are 8-bit in the reference simulator).
OPERAND_BITS = 8
#: Bits per cell with a weight factor: column b-1 of ``aw`` is b bits per cell.
BITS_PER_CELL = tuple(range(1, OPERAND_BITS + 1))
#: Histogram size for values quantised to 8 bits: 2^8 - 1 symmetric bins, zero in the centre bin.
QUANT_BINS = 2**OPERAND_BITS - 1
#: Values per chunk when histogramming a large tensor (bounds the temporary index array to ~32 MB).
_CHUNK = 1 << 22


def _code_bits(n_bins: int) -> int:
    """k for a histogram of n = 2^k - 1 bins (1 <= k <= 8); ValueError otherwise."""
    k = int(n_bins + 1).bit_length() - 1
    if n_bins < 1 or 2**k - 1 != n_bins or k > OPERAND_BITS:
        raise ValueError(f"a histogram needs 2^k - 1 bins with 1 <= k <= {OPERAND_BITS}, got {n_bins}"
                         " — use e.g. 31, 63 or 255 bins")
    return k


def bit_means(hist: np.ndarray) -> np.ndarray:
    """Mean of each of the 8 operand bits under the offset encoding of histograms ``hist``.

    Args:
        hist: (N, n) bin probabilities (or counts; each row is normalised to sum 1), n = 2^k - 1 bins, bin 0 the
            most negative value, the centre bin zero.

    Returns:
        (N, 8) float64, column t = E[bit t] with t = 0 the MSB; bits t >= k are 0.5.
    """
    hist = np.atleast_2d(np.asarray(hist, dtype=np.float64))
    k = _code_bits(hist.shape[1])
    total = hist.sum(axis=1, keepdims=True)
    p = hist / np.where(total > 0, total, 1.0)
    codes = np.arange(hist.shape[1])
    # (n, k) bit t of code i, MSB first
    bits = (codes[:, None] >> (k - 1 - np.arange(k))[None, :]) & 1
    out = np.full((hist.shape[0], OPERAND_BITS), 0.5)
    out[:, :k] = p @ bits
    return out


def slice_weights(bits_per_slice: int) -> np.ndarray:
    """(8,) weight of each operand bit in the slice average for slices of ``bits_per_slice`` bits.

    Bit t lies in slice s = t // b at position j = t % b of a slice of b_s = min(b, 8 - s*b) bits; it weighs
    2^(b_s - j - 1) / (2^b - 1) / n_slices, so ``bit_means @ slice_weights(b)`` is the mean slice value.
    """
    b = int(bits_per_slice)
    if not 1 <= b <= OPERAND_BITS:
        raise ValueError(f"bits per slice must be 1..{OPERAND_BITS}, got {bits_per_slice}")
    t = np.arange(OPERAND_BITS)
    s, j = t // b, t % b
    b_s = np.minimum(b, OPERAND_BITS - s * b)
    n_slices = -(-OPERAND_BITS // b)
    return 2.0 ** (b_s - j - 1) / (2.0**b - 1) / n_slices


#: (8, 8) matrix: column b-1 holds :func:`slice_weights` (b), so ``bit_means(h) @ AW_MATRIX`` is aw(1..8).
AW_MATRIX = np.stack([slice_weights(b) for b in BITS_PER_CELL], axis=1)


def aw_from_histograms(hist: np.ndarray) -> np.ndarray:
    """Weight activity factors aw(bpc), bpc = 1..8, of weight histograms ``hist`` (N, n) -> (N, 8)."""
    return bit_means(hist) @ AW_MATRIX


def ain_from_histograms(hist: np.ndarray) -> np.ndarray:
    """Input activity factor ain (one 8-bit input slice) of input histograms ``hist`` (N, n) -> (N,)."""
    return bit_means(hist) @ slice_weights(OPERAND_BITS)


def symmetric_histogram(values: np.ndarray, n_bins: int = QUANT_BINS, *, max_abs: float | None = None,
                        counts: bool = False) -> np.ndarray:
    """(n_bins,) probabilities (or counts) of ``values`` (any shape) in n equal bins over [-m, m].

    m = ``max_abs``, default max|v| of the values. Bin i covers [-m + 2m i/n, -m + 2m (i+1)/n) (values beyond
    the range go to the end bins), so zero falls in the centre bin; with n = 255 this is symmetric 8-bit
    quantisation. All-zero values (m = 0) fall in the centre bin. Non-finite values are ignored. Large tensors
    are counted in chunks.
    """
    _code_bits(n_bins)
    flat = np.asarray(values).reshape(-1)
    m = max_abs
    if m is None:
        m = 0.0
        for lo in range(0, flat.size, _CHUNK):
            chunk = flat[lo:lo + _CHUNK].astype(np.float64)
            chunk = chunk[np.isfinite(chunk)]
            if chunk.size:
                m = max(m, float(np.abs(chunk).max()))
    hist = np.zeros(n_bins, dtype=np.int64)
    for lo in range(0, flat.size, _CHUNK):
        chunk = flat[lo:lo + _CHUNK].astype(np.float64)
        chunk = chunk[np.isfinite(chunk)]
        if m > 0:
            idx = np.clip(np.floor((chunk / m + 1.0) * (n_bins / 2.0)), 0, n_bins - 1).astype(np.int64)
            hist += np.bincount(idx, minlength=n_bins)
        else:
            hist[n_bins // 2] += chunk.size
    if counts:
        return hist.astype(np.float64)
    total = int(hist.sum())
    if total == 0:  # no finite value: the zero bin
        hist[n_bins // 2] = total = 1
    return hist / total


def aw_from_weights(weights: np.ndarray, n_bins: int = QUANT_BINS) -> np.ndarray:
    """(8,) aw(bpc = 1..8) of one layer's weight values (any shape), quantised to ``n_bins`` symmetric bins."""
    return aw_from_histograms(symmetric_histogram(weights, n_bins)[None, :])[0]
