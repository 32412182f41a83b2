"""Package layout: families are discovered, and the flat module names of earlier versions still import."""
import importlib
import os

import pytest

import phasekit

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

LEGACY = {
    "phasekit.theory.perceptron": "phasekit.theory.replica.perceptron",
    "phasekit.theory.local_entropy": "phasekit.theory.replica.local_entropy",
    "phasekit.theory.local_entropy_ld": "phasekit.theory.replica.local_entropy_ld",
    "phasekit.theory.local_entropy_teacher": "phasekit.theory.replica.local_entropy_teacher",
    "phasekit.theory.random_features": "phasekit.theory.replica.random_features",
    "phasekit.theory.random_features_fp": "phasekit.theory.replica.random_features_fp",
    "phasekit.theory.geneft": "phasekit.theory.effective_theory.geneft",
    "phasekit.theory.liu": "phasekit.theory.effective_theory.liu",
    "phasekit.validation.enumeration": "phasekit.validation.replica.enumeration",
    "phasekit.validation.spherical": "phasekit.validation.replica.spherical",
    "phasekit.validation.perceptron_theory": "phasekit.validation.replica.perceptron_theory",
    "phasekit.validation.perceptron_checks": "phasekit.validation.replica.perceptron_checks",
    "phasekit.validation.local_entropy": "phasekit.validation.replica.local_entropy",
    "phasekit.validation.local_entropy_checks": "phasekit.validation.replica.local_entropy_checks",
    "phasekit.validation.adaptive_kernel_checks": "phasekit.validation.adaptive_kernel.adaptive_kernel_checks",
    "phasekit.validation.geneft": "phasekit.validation.effective_theory.geneft",
    "phasekit.validation.geneft_checks": "phasekit.validation.effective_theory.geneft_checks",
    "phasekit.validation.liu": "phasekit.validation.effective_theory.liu",
    "phasekit.validation.lut_network": "phasekit.validation.lut.lut_network",
    "phasekit.validation.lut_checks": "phasekit.validation.lut.lut_checks",
    "phasekit.validation.transport_checks": "phasekit.validation.transport.transport_checks",
}


@pytest.mark.parametrize("old", sorted(LEGACY))
def test_flat_module_names_are_aliases(old):
    new = importlib.import_module(LEGACY[old])
    assert importlib.import_module(old) is new
    parent, name = old.rsplit(".", 1)
    assert getattr(importlib.import_module(parent), name) is new


@pytest.mark.parametrize("pkg, module", [("phasekit.theory.adaptive_kernel", "adaptive_kernel"),
                                         ("phasekit.theory.lut", "lut"), ("phasekit.theory.transport", "transport"),
                                         ("phasekit.validation.adaptive_kernel", "adaptive_kernel"),
                                         ("phasekit.validation.transport", "transport")])
def test_family_packages_stand_for_their_former_module(pkg, module):
    p = importlib.import_module(pkg)
    m = importlib.import_module(f"{pkg}.{module}")
    assert p.__all__ == m.__all__ and all(getattr(p, n) is getattr(m, n) for n in m.__all__)
    private = next(n for n in vars(m) if n.startswith("_") and not n.startswith("__"))
    assert getattr(p, private) is getattr(m, private)
    with pytest.raises(AttributeError, match=pkg):
        getattr(p, "no_such_name")


def test_every_family_folder_is_imported():
    for pkg, folder in ((phasekit.theory, "theory"), (phasekit.validation, "validation")):
        on_disk = sorted(d for d in os.listdir(os.path.join(ROOT, folder))
                         if not d.startswith("_") and os.path.isfile(os.path.join(ROOT, folder, d, "__init__.py")))
        assert list(pkg.FAMILIES) == on_disk
        assert set(on_disk) <= set(pkg.__all__)
