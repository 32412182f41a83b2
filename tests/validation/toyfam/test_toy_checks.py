import phasekit as pk


def test_toy_check_passes(tmp_path):
    assert pk.get_check("toyfam.self_consistency").func(str(tmp_path), quick=True).passed
