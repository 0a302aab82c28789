"""imc-moo-cache: where the cache is, what it holds, and clearing the entries older model code left."""

from __future__ import annotations

from imc_moo.app.cache_command import _current_suffixes, main
from imc_moo.paths import CACHE_ENV


def test_info_and_clear(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    current = _current_suffixes()
    files = {"tables/rram-a" + current["tables"]: False, "tables/rram-a-0123456789ab.npz": True,
             "bounded/sram-b" + current["bounded"]: False, "bounded/sram-b-deadbeefdead.npz": True,
             "networks/resnet18-abc.npz": False}
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x" * 1000)
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert str(tmp_path) in out and "1 from older model code" in out and "$IMC_MOO_CACHE" in out
    assert main(["clear", "--stale"]) == 0
    assert "removed 2 stale entries" in capsys.readouterr().out
    assert {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.npz")} == {n for n, old in files.items()
                                                                               if not old}
    assert main(["clear"]) == 0 and not list(tmp_path.rglob("*.npz"))


def test_a_cache_switched_off_says_so(monkeypatch, capsys):
    monkeypatch.setenv(CACHE_ENV, "off")
    assert main(["info"]) == 0
    assert "the cache is off" in capsys.readouterr().out
