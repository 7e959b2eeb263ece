import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from simulator.comm.compressors import COMPRESSORS, make
from simulator.comm.golomb import expected_bits_per_position

WITH_RESIDUAL = [
    ("topk", {"p": 0.1}),
    ("stc", {"p": 0.05}),
    ("sbc", {"p": 0.05}),
    ("sbc", {"p": 1.0}),
    ("signsgd", {"error_feedback": True}),
    ("dense", {"bits": 16, "error_feedback": True}),
]
ALL = WITH_RESIDUAL + [("dense", {}), ("fedavg", {}), ("signsgd", {}), ("terngrad", {"seed": 1})]

finite = st.floats(-1e3, 1e3, allow_nan=False, width=32)
tensor = arrays(np.float32, array_shapes(min_dims=1, max_dims=3, max_side=12), elements=finite)
updates = st.lists(st.dictionaries(st.sampled_from(["w", "b", "conv"]), tensor, min_size=1, max_size=3), min_size=1, max_size=4)


def _consistent(rounds):
    """Give each name one shape across rounds (the model does not change shape)."""
    shapes = {}
    for r in rounds:
        for k, v in r.items():
            shapes.setdefault(k, v.shape)
    return [{k: v for k, v in r.items() if v.shape == shapes[k]} for r in rounds]


@pytest.mark.parametrize("method, params", WITH_RESIDUAL, ids=lambda v: str(v))
@settings(max_examples=40, deadline=None)
@given(rounds=updates)
def test_nothing_is_lost_only_delayed(method, params, rounds):
    comp = make(method, **params)
    sent, total = {}, {}
    for update in _consistent(rounds):
        decoded = comp.decode(comp.compress(update))
        for k, v in update.items():
            assert decoded[k].shape == v.shape
            sent[k] = sent.get(k, 0.0) + decoded[k].astype(np.float64)
            total[k] = total.get(k, 0.0) + v.astype(np.float64)
    for k in total:
        scale = max(1.0, float(np.abs(total[k]).max()))
        np.testing.assert_allclose(sent[k] + comp.residual[k].reshape(total[k].shape), total[k], atol=1e-9 * scale * len(rounds))


@pytest.mark.parametrize("method, params", ALL, ids=lambda v: str(v))
def test_round_trip_shapes_and_bits(method, params):
    rng = np.random.default_rng(0)
    update = {"conv": rng.normal(size=(8, 3, 3, 3)).astype(np.float32), "fc": rng.normal(size=(10, 50)).astype(np.float32)}
    msg = make(method, **params).compress(update)
    decoded = make(method, **params).decode(msg)
    assert {k: v.shape for k, v in decoded.items()} == {k: v.shape for k, v in update.items()}
    assert msg.nbits == sum(len(c.data) * 8 - (-c.nbits % 8) for t in msg.tensors.values() for c in t.codes.values())
    assert 0 < msg.nbits < 32 * 716 or method in ("dense", "fedavg")


def test_bits_per_method():
    x = {"w": np.random.default_rng(1).normal(size=100_000).astype(np.float32)}
    assert make("dense").compress(x).nbits == 32 * 100_000
    assert make("dense", bits=16).compress(x).nbits == 16 * 100_000
    assert make("signsgd").compress(x).nbits == 100_000 + 32
    assert make("terngrad").compress(x).nbits == 2 * 100_000 + 32
    assert make("topk", p=0.01).compress(x).nbits == 1000 * 64
    sbc = make("sbc", p=0.01).compress(x)
    golomb = sbc.tensors["w"].codes["positions"]
    assert golomb.count == 1000 and sbc.nbits == golomb.nbits + 32
    assert golomb.payload_bits / 1000 == pytest.approx(expected_bits_per_position(0.01), rel=0.05)
    stc = make("stc", p=0.01).compress(x)
    assert stc.nbits == stc.tensors["w"].codes["positions"].nbits + 1000 + 32


def test_sbc_keeps_the_side_with_larger_mean():
    x = np.array([0.1, 0.2, 0.3, 0.4, -5.0, -0.01, 0.35, 0.25, 0.15, 0.05], dtype=np.float32)
    comp = make("sbc", p=0.2)  # k = 2 per side: positives {0.4, 0.35} mean 0.375, negatives {-5, -0.01} mean 2.505
    out = comp.decode(comp.compress({"x": x}))["x"]
    np.testing.assert_allclose(out, np.where(np.isin(np.arange(10), [4, 5]), -2.505, 0), rtol=1e-6)
    out = comp.decode(comp.compress({"x": -x}))["x"]  # residual now holds the rest; one mean again
    assert len(np.unique(out[out != 0])) == 1


def test_stc_is_ternary_and_topk_exact():
    x = {"x": np.array([3.0, -4.0, 0.5, 1.0, -0.1], dtype=np.float32)}
    stc = make("stc", p=0.4)
    np.testing.assert_allclose(stc.decode(stc.compress(x))["x"], [3.5, -3.5, 0, 0, 0])
    topk = make("topk", p=0.4)
    np.testing.assert_array_equal(topk.decode(topk.compress(x))["x"], [3.0, -4.0, 0, 0, 0])


def test_signsgd_majority_vote_and_terngrad_unbiased():
    comp = make("signsgd")
    decoded = [comp.decode(comp.compress({"w": np.array(v, dtype=np.float32)})) for v in ([1, -1, 2], [1, 1, -2], [-1, -1, -2])]
    vote = comp.aggregate(decoded)["w"]
    np.testing.assert_array_equal(np.sign(vote), [1, -1, -1])
    tern = make("terngrad", seed=3)
    x = {"w": np.linspace(-1, 1, 50).astype(np.float32)}
    mean = np.mean([tern.decode(tern.compress(x))["w"] for _ in range(2000)], axis=0)
    np.testing.assert_allclose(mean, x["w"], atol=0.08)


def test_bad_input():
    with pytest.raises(ValueError, match="unknown compression method 'zip'"):
        make("zip")
    with pytest.raises(ValueError, match=r"density p must be in \(0, 1\]"):
        make("sbc", p=0)
    with pytest.raises(ValueError, match="bad parameters for 'topk'"):
        make("topk", q=3)
    with pytest.raises(ValueError, match="'w' has 1 NaN or Inf"):
        make("sbc").compress({"w": np.array([1.0, np.nan])})
    with pytest.raises(ValueError, match="'sbc' decoder was given a 'stc' message"):
        make("sbc").decode(make("stc").compress({"w": np.ones(3)}))
    assert set(COMPRESSORS) >= {"dense", "fedavg", "topk", "signsgd", "terngrad", "stc", "sbc"}
