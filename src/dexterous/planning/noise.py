"""Time-correlated ("coloured") Gaussian noise along the planning horizon.

TOPDM+ perturbs its means with noise whose power spectrum falls as 1/f^γ along the τ
planned steps (iCEM, Pinneri et al. 2020): γ = 0 is white noise, γ = 2 a smooth drift that
moves a whole stretch of the plan together, which is how fingers move when they spin or
hand over an object, so fewer samples are wasted on jittery sequences.

Each sequence is drawn in the frequency domain: independent complex normals per rfft
bin, scaled by f^(−γ/2) (the zero-frequency bin takes the lowest nonzero frequency's
scale, so γ > 0 still has a bounded drift), then transformed back with `numpy.fft.irfft`
and divided by the exact standard deviation that this construction gives, so every entry
is N(0, 1) whatever γ and τ are.
"""

from __future__ import annotations

import numpy as np


def spectrum_scales(length: int, exponent: float) -> np.ndarray:
    """(length // 2 + 1,) amplitude per rfft bin for a 1/f^exponent power spectrum."""
    if length < 1:
        raise ValueError(f"length must be ≥ 1, got {length}")
    freqs = np.fft.rfftfreq(length)
    if length > 1:
        freqs[0] = freqs[1]
    else:
        freqs[0] = 1.0
    return freqs ** (-exponent / 2.0)


def _std(scales: np.ndarray, length: int) -> float:
    """Standard deviation of one irfft sample when bin k is scales[k]·(a + ib), a, b ~ N(0, 1).

    irfft returns (X_0 + 2·Σ_k Re(X_k·e^{iω_k t}) + X_{n/2}·(−1)^t for even n) / n. A real bin
    (zero frequency; Nyquist for even n) adds variance s²; every other bin adds
    4·s²·Var(a·cos − b·sin) = 4·s².
    """
    variance = scales[0] ** 2
    inner = scales[1:-1] if length % 2 == 0 else scales[1:]
    variance += 4.0 * np.sum(inner**2)
    if length % 2 == 0 and length > 1:
        variance += scales[-1] ** 2
    return float(np.sqrt(variance)) / length


def coloured_noise(rng: np.random.Generator, shape: tuple[int, ...], scales: np.ndarray, axis: int = 1) -> np.ndarray:
    """Unit-variance noise of `shape`, correlated along `axis` by scales (`spectrum_scales`)."""
    length = shape[axis]
    bins = list(shape)
    bins[axis] = scales.shape[0]
    coefficients = rng.standard_normal(bins) + 1j * rng.standard_normal(bins)
    view = [None] * len(shape)
    view[axis] = slice(None)
    coefficients *= scales[tuple(view)]
    real_only = [slice(None)] * len(shape)
    real_only[axis] = 0
    coefficients[tuple(real_only)] = coefficients[tuple(real_only)].real
    if length % 2 == 0 and length > 1:
        real_only[axis] = -1
        coefficients[tuple(real_only)] = coefficients[tuple(real_only)].real
    return np.fft.irfft(coefficients, n=length, axis=axis) / _std(scales, length)
