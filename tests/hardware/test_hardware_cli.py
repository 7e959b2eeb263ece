from simulator.hardware import load_profile
from simulator.hardware.cli import list_profiles, show_profile


def test_list_profiles_one_line_each():
    lines = list_profiles().splitlines()
    names = [ln.split()[0] for ln in lines]
    assert {"horowitz-45nm", "embedded-cpu", "mobile-gpu"} <= set(names)
    assert not any("INVALID" in ln for ln in lines)


def test_show_profile_prints_every_number_with_unit_and_source():
    text = show_profile("horowitz-45nm")
    assert "SRAM-1MiB" in text and "50 pJ [high]" in text and "Horowitz" in text
    p = load_profile("horowitz-45nm")
    n_numbers = sum(2 * len(w) for k in p.arithmetic.values() for w in k.values()) + sum(
        len(lv.energy_per_access) + 2 + (lv.capacity is not None) + (lv.gather_throughput is not None)
        + (lv.loop_exit is not None) for lv in p.memory) + (p.clock is not None) + (p.time_model.call_overhead is not None)
    assert text.count("] (") == n_numbers


def test_show_every_shipped_profile_including_calibrated():
    from simulator.hardware import profile_files
    from simulator.hardware.cli import show_profile

    for path in profile_files():
        text = show_profile(path)
        assert "memory (nearest first)" in text
        if "calibrated" in str(path):
            assert "dotsim calibrate" in text and "gather throughput" in text


def test_show_prints_the_optional_device_terms(tmp_path):
    import yaml

    p = load_profile("amd-epyc-f26m2")
    data = p.model_dump(mode="json", exclude={"path", "inherits", "lineage"}, exclude_none=True)
    data["memory"][1]["contended_bandwidth"] = {**data["memory"][1]["bandwidth"], "value": 50, "source": "test c"}
    data["time_model"]["learned_exits"] = {"value": 16384, "unit": "1", "source": "test e", "confidence": "low"}
    path = tmp_path / "opt.yaml"
    path.write_text(yaml.safe_dump(data))
    text = show_profile(path)
    assert "bandwidth beside a farthest-level stream" in text and "test c" in text
    assert "inner-loop exits of a product the branch predictor learns" in text and "16384 1 [low] (test e)" in text
