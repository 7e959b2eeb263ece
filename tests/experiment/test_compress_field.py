"""``compress:`` of a network workload is ``CompressionSpec`` (with the ``mpd`` mask step); ``layer_stats:`` is
``LayerTarget``: validated strictly, errors naming file, field and line."""

from simulator.experiment import load_spec, run_experiment
from simulator.experiment.format_choices import labels_of
from simulator.workloads.catalog import LayerTarget
from simulator.workloads.compress import CompressionSpec
from simulator.workloads.mpd_mask import MPDMaskSpec


def _mpd(network_spec: str, compress: str) -> str:
    return network_spec.replace("    layer_stats: {p0: 0.85, K: 8}\n",
                                f"    layer_stats: {{p0: 0.01, K: 8}}\n    compress: {compress}\n")


def test_the_spec_holds_the_workload_types(tiny_network, network_spec, tmp_path):
    p = tmp_path / "ok.yaml"
    p.write_text(_mpd(network_spec, "{mpd: {blocks: 4, seed: 2}, K: 4}").replace("seed: 3", ""))
    w = load_spec(p)[0].workloads[0]
    assert w.compress == CompressionSpec(K=4, seed=0, mpd=MPDMaskSpec(blocks=4, seed=2))  # seed: options.seed
    assert w.layer_stats == LayerTarget(p0=0.01, K=8)


def test_bad_compression_names_the_field(error, tiny_network, network_spec):
    assert error(_mpd(network_spec, "{mpd: {blocks: 0}}")) == \
        "F: field workloads.0.compress.mpd (line 7): blocks 0: expected an integer >= 1"
    assert error(_mpd(network_spec, "{mpd: {blocks: true}}")) == \
        "F: field workloads.0.compress.mpd.blocks (line 7): Input should be a valid integer (got True)"
    assert error(_mpd(network_spec, "{mpd: {blocks: 4, sede: 1}}")).startswith(
        "F: field workloads.0.compress.mpd.sede (line 7): ")
    assert error(_mpd(network_spec, "{sparsity: 2}")) == \
        "F: field workloads.0.compress (line 7): sparsity 2.0: expected a fraction in [0, 1]"
    assert error(network_spec.replace("K: 8}", "K: 8.5}")) == \
        "F: field workloads.0.layer_stats.K (line 6): Input should be a valid integer (got 8.5)"


def test_a_masked_network_runs_and_encodes_as_mpd(tiny_network, network_spec, tmp_path):
    p = tmp_path / "mpd.yaml"
    p.write_text(_mpd(network_spec, "{mpd: {blocks: 4}}").replace("[dense, csr, cser]", "[dense, csr, mpd]"))
    df = run_experiment(p, tmp_path / "out", progress=False)
    assert list(labels_of(df))[:3] == ["dense", "csr", "mpd"]
    gains = df.set_index(["format", "profile"])["storage_gain"]
    assert 3 < gains["mpd", "horowitz-45nm"] < 4  # about 4x fewer weights, less the permutations
