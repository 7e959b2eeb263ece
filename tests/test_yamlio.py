"""The YAML reader under hostile documents: each fails fast with one short line naming file, field and line."""
import time
from pathlib import Path

import pytest

import simulator.yamlio as yamlio
from simulator.yamlio import read_yaml


def _write(tmp_path: Path, text: str | bytes) -> Path:
    p = tmp_path / "doc.yaml"
    p.write_bytes(text if isinstance(text, bytes) else text.encode())
    return p


def _error(tmp_path: Path, text: str | bytes) -> str:
    with pytest.raises(ValueError) as e:
        read_yaml(_write(tmp_path, text))
    return str(e.value)


def billion_laughs(levels: int = 9) -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        prev, cur = chr(96 + i), chr(97 + i)
        lines.append(f"{cur}: &{cur} [{','.join(['*' + prev] * 9)}]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_fails_fast_with_a_short_message(tmp_path):
    text = billion_laughs()
    assert len(text) < 400
    t = time.perf_counter()
    msg = _error(tmp_path, text)
    assert time.perf_counter() - t < 1.0
    assert msg == f"{tmp_path / 'doc.yaml'}: aliases expand to more than 1,000,000 nodes (line 7); a document this large is refused"


def test_shared_aliases_within_the_limit_are_read(tmp_path):
    data, _ = read_yaml(_write(tmp_path, "base: &b {x: 1}\nuse: [*b, *b]\nmerged:\n  <<: *b\n  y: 2\n"))
    assert data == {"base": {"x": 1}, "use": [{"x": 1}, {"x": 1}], "merged": {"x": 1, "y": 2}}


def test_recursive_alias_is_named(tmp_path):
    msg = _error(tmp_path, "a: &x [1, *x]\n")
    assert msg == f"{tmp_path / 'doc.yaml'}: field a.1 (line 1): recursive alias (a node that contains itself)"


def test_duplicate_key_refused_with_both_lines(tmp_path):
    msg = _error(tmp_path, "a: 1\nb:\n  c: 2\n  d: 0\n  c: 3\n")
    assert msg == f"{tmp_path / 'doc.yaml'}: field b.c (line 3): key 'c' given twice (lines 3 and 5); keep one"


@pytest.mark.parametrize("word", [".inf", "-.Inf", ".nan", ".NaN"])
def test_infinite_or_nan_numbers_refused(tmp_path, word):
    msg = _error(tmp_path, f"x:\n  - 1.5\n  - {word}\n")
    assert msg == f"{tmp_path / 'doc.yaml'}: field x.1 (line 3): {word} is not a finite number; every number must be finite"


def test_document_size_limited_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(yamlio, "MAX_DOCUMENT_BYTES", 100)
    msg = _error(tmp_path, "a: " + "x" * 200 + "\n")
    assert msg == f"{tmp_path / 'doc.yaml'}: 204 bytes, above the 100-byte limit of a YAML document"


def test_non_utf8_file_is_named(tmp_path):
    msg = _error(tmp_path, b"name: caf\xe9\n")
    assert msg == f"{tmp_path / 'doc.yaml'}: not UTF-8 text (byte 0xe9 at offset 9); save the file as UTF-8"


def test_utf8_bom_is_accepted(tmp_path):
    assert read_yaml(_write(tmp_path, b"\xef\xbb\xbfa: 1\n"))[0] == {"a": 1}


def test_directory_and_missing_file(tmp_path):
    with pytest.raises(ValueError, match="is a directory, expected a YAML file"):
        read_yaml(tmp_path)
    with pytest.raises(FileNotFoundError, match="nope.yaml: no such file"):
        read_yaml(tmp_path / "nope.yaml")


def test_deep_nesting_is_refused_in_one_line(tmp_path):
    msg = _error(tmp_path, "a: " + "[" * 3000 + "]" * 3000 + "\n")
    libyaml = yamlio._COMPOSER is not __import__("yaml").SafeLoader
    expected = "not valid YAML (line 1, column 1003): exceeded maximum nesting depth" if libyaml else "nested too deeply to read"
    assert msg == f"{tmp_path / 'doc.yaml'}: {expected}"


def test_profile_loader_refuses_duplicate_keys(tmp_path):
    from simulator.hardware import load_profile

    src = Path(__file__).resolve().parents[1] / "hardware_profiles" / "horowitz-45nm.yaml"
    text = src.read_text().replace("name: horowitz-45nm\n", "name: horowitz-45nm\nname: copy\n", 1)
    p = tmp_path / "dup.yaml"
    p.write_text(text)
    line = text.splitlines().index("name: copy") + 1
    with pytest.raises(ValueError) as e:
        load_profile(p)
    assert str(e.value) == f"{p}: field name (line {line - 1}): key 'name' given twice (lines {line - 1} and {line}); keep one"


def test_many_problems_make_a_short_message(tmp_path):
    from pydantic import BaseModel, StrictInt

    class M(BaseModel):
        xs: list[StrictInt]

    p = _write(tmp_path, "xs: [" + ", ".join(["true"] * 50_000) + "]\n")
    data, node = read_yaml(p)
    with pytest.raises(ValueError) as e:
        yamlio.validate(M, p, data, node)
    lines = str(e.value).splitlines()
    assert len(lines) == 21 and len(str(e.value)) < 3000
    assert lines[0] == f"{p}: field xs.0 (line 1): Input should be a valid integer (got True)"
    assert lines[-1] == f"{p}: ... and 49,980 more problems"
