"""The one table of environments: lookups by any accepted spelling, twins, families, errors."""

import pytest

import dexterous
from dexterous.catalog import ENTRIES, UnknownEnvError, canonical_id, entry


@pytest.mark.parametrize("spelling", ["dexterous/TwoEggCatchUnderarm-v1", "TwoEggCatchUnderarm-v1",
                                      "TwoEggCatchUnderarm", "dexterous/TwoEggCatchUnderArm"])
def test_every_accepted_spelling_finds_the_canonical_entry(spelling):
    assert canonical_id(spelling) == "dexterous/TwoEggCatchUnderArm-v1"
    assert entry(spelling).family == "two_egg_catch"  # the paper's doubled budget, for eggs only


def test_goal_tasks_have_twins_and_the_others_none():
    sparse = entry("dexterous/PenCatchUnderarmHardSparse-v1")
    assert sparse.sparse and sparse.dense_id == "dexterous/PenCatchUnderarmHard-v1"
    assert entry(sparse.dense_id).sparse_id == sparse.id and entry(sparse.dense_id).family == "two_hands"
    for name in ("PenSpin", "Humanoid"):
        assert entry(name).sparse_id is None and not entry(name).has_success
    assert len({e.id for e in ENTRIES}) == len(ENTRIES) == len(dexterous.env_ids()) == 36


def test_every_task_but_humanoid_has_an_object():
    assert [e.name for e in ENTRIES if not e.has_object] == ["Humanoid"]
    for name in ("PenSpin", "EggHandOver", "HandManipulateBlockFull", "Humanoid"):
        env = dexterous.make(name).unwrapped
        assert bool(getattr(getattr(env, "indices", None), "objects", ())) == entry(name).has_object


def test_an_unknown_id_suggests_the_closest_and_lists_them_all():
    with pytest.raises(UnknownEnvError, match=r"unknown environment id 'dexterous/EggHandover-v1'\. Did you mean "
                                              r"dexterous/EggHandOver-v1.*Run `dexterous envs`.*PenSpin"):
        entry("EggHandover-v1")


def test_reading_the_table_builds_no_environment_and_imports_no_mujoco():
    import subprocess
    import sys

    code = ("import sys, dexterous.catalog as c; [c.entry(e.id) for e in c.ENTRIES]; "
            "assert 'mujoco' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
