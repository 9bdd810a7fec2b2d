"""Set metrics on feature vectors, and pixel metrics for repair. All numpy in, floats out.

Names say what they are: a Fréchet distance on the project's evaluator features is `fd_evaluator`, on
EfficientNet-Lite0 ImageNet features `fd_effnet`; neither is Inception FID and neither compares with
published FID numbers.
"""

from __future__ import annotations

import numpy as np


def _moments(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"need a (n >= 2, d) feature array, got shape {x.shape}")
    return x.mean(0), np.cov(x, rowvar=False)


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (Heusel et al., 2017, eq. for FID).

    ||mu_a - mu_b||^2 + tr(S_a) + tr(S_b) - 2 tr((S_a^1/2 S_b S_a^1/2)^1/2), computed with symmetric
    eigendecompositions so it stays real and stable.
    """
    mu_a, cov_a = _moments(a)
    mu_b, cov_b = _moments(b)
    vals, vecs = np.linalg.eigh(cov_a)
    root_a = (vecs * np.sqrt(np.clip(vals, 0, None))) @ vecs.T
    middle = root_a @ cov_b @ root_a
    trace_root = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0, None)).sum()
    value = float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_root)
    return max(value, 0.0)


def kernel_distance(a: np.ndarray, b: np.ndarray, subsets: int = 50, subset_size: int = 1000,
                    seed: int = 0) -> tuple[float, float]:
    """KID: unbiased MMD^2 with the cubic polynomial kernel k(x,y) = (x.y/d + 1)^3 (Bińkowski et al.,
    ICLR 2018), averaged over random subsets. Returns (mean, standard deviation over subsets).

    Both sets are first divided by their joint root-mean-square per dimension, so x.y/d is O(1) as for
    the Inception features KID was defined on; unscaled ReLU features (norms ~40) make the cubic kernel
    heavy-tailed and the estimate mostly noise, and would tie its value to the feature scale.
    """
    x, y = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"feature sets must be (n, d) with the same d, got {x.shape} and {y.shape}")
    rms = float(np.sqrt((np.concatenate([x, y]) ** 2).mean())) or 1.0
    x, y = x / rms, y / rms
    m = min(len(x), len(y), subset_size)
    if m < 2:
        raise ValueError("KID needs at least 2 samples in each set")
    d = x.shape[1]
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(subsets):
        xs = x[rng.choice(len(x), m, replace=False)]
        ys = y[rng.choice(len(y), m, replace=False)]
        kxx = (xs @ xs.T / d + 1) ** 3
        kyy = (ys @ ys.T / d + 1) ** 3
        kxy = (xs @ ys.T / d + 1) ** 3
        off = m * (m - 1)
        values.append((kxx.sum() - np.trace(kxx)) / off + (kyy.sum() - np.trace(kyy)) / off
                      - 2 * kxy.mean())
    return float(np.mean(values)), float(np.std(values))


def diversity(features: np.ndarray, groups: np.ndarray) -> float:
    """Mean pairwise L2 distance between the samples of each group (prompt), averaged over groups."""
    x = np.asarray(features, np.float64)
    groups = np.asarray(groups)
    means = []
    for g in np.unique(groups):
        members = x[groups == g]
        if len(members) < 2:
            continue
        sq = (members ** 2).sum(1)
        dist = np.sqrt(np.clip(sq[:, None] + sq[None, :] - 2 * members @ members.T, 0, None))
        n = len(members)
        means.append(dist.sum() / (n * (n - 1)))
    if not means:
        raise ValueError("diversity needs at least one group with 2 or more samples")
    return float(np.mean(means))


def nearest_distances(queries: np.ndarray, reference: np.ndarray, chunk: int = 256) -> np.ndarray:
    """L2 distance from each query to its nearest reference vector (chunked, so 55k references fit;
    float64, since the |q|^2 + |r|^2 - 2 q.r expansion loses exact copies to cancellation in float32)."""
    q = np.asarray(queries, np.float64)
    r = np.asarray(reference, np.float64)
    r_sq = (r ** 2).sum(1)
    out = np.empty(len(q), np.float64)
    for start in range(0, len(q), chunk):
        block = q[start:start + chunk]
        d2 = (block ** 2).sum(1)[:, None] + r_sq[None, :] - 2 * block @ r.T
        out[start:start + chunk] = np.sqrt(np.clip(d2.min(1), 0, None))
    return out


def memorization(samples: np.ndarray, train: np.ndarray, real_test: np.ndarray) -> dict[str, float]:
    """How close samples sit to their nearest training image, against real unseen (test) images.

    ratio = median NN distance of samples / median NN distance of real test images: about 1 for a model
    that makes new images, near 0 for one that copies its training set. `copies` is the share of samples
    closer to a training image than 99% of real test images are.
    """
    sample_nn = nearest_distances(samples, train)
    real_nn = nearest_distances(real_test, train)
    threshold = float(np.percentile(real_nn, 1))
    return {
        "median_nn_distance": float(np.median(sample_nn)),
        "real_median_nn_distance": float(np.median(real_nn)),
        "ratio": float(np.median(sample_nn) / max(np.median(real_nn), 1e-12)),
        "copies": float((sample_nn < threshold).mean()),
    }


def psnr(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> float:
    """PSNR in dB between uint8 images (H, W, 3), over all pixels or only where mask (H, W) is True."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        raise ValueError(f"images differ in shape: {a.shape} vs {b.shape}")
    diff = (a - b) ** 2
    if mask is not None:
        if not mask.any():
            raise ValueError("mask is empty")
        diff = diff[mask]
    mse = diff.mean()
    return float("inf") if mse == 0 else float(10 * np.log10(255.0 ** 2 / mse))


def ssim(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Mean SSIM (Wang et al., 2004; 7x7 windows) between uint8 RGB images, over all pixels or the mask."""
    from skimage.metrics import structural_similarity

    if a.shape != b.shape:
        raise ValueError(f"images differ in shape: {a.shape} vs {b.shape}")
    _, full = structural_similarity(a, b, channel_axis=-1, data_range=255, full=True)
    per_pixel = full.mean(-1)
    if mask is None:
        return float(per_pixel.mean())
    if not mask.any():
        raise ValueError("mask is empty")
    return float(per_pixel[mask].mean())


def sharpness(images) -> float:
    """Mean variance of the Laplacian of luminance (0..255) over PIL images: high-frequency energy, the usual
    blur measure (Pech-Pacheco et al. 2000). A blurred decode scores low; compare with real images at the
    same size, since noise scores high too."""
    import cv2

    values = []
    for image in images:
        luminance = np.asarray(image.convert("L"), dtype=np.float64)
        values.append(cv2.Laplacian(luminance, cv2.CV_64F, ksize=1).var())
    return float(np.mean(values)) if values else float("nan")

