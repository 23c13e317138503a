"""The analysis commands through Typer's CliRunner: ingest --text, process, analyse, links,
show; and clear errors for bad text input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from case_96th import ENGLISH, VIDEO_1, VIDEO_2
from typer.testing import CliRunner

from tolmach.cli import app
from tolmach.engines.fake import FakeTranslator
from tolmach.pipeline import translate

runner = CliRunner()


@pytest.fixture(autouse=True)
def fake_mt(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = FakeTranslator(ENGLISH)
    monkeypatch.setattr(translate, "make_translator", lambda settings, audio=None: engine)


def _cli(data: Path, *args: str) -> tuple[int, str]:
    """Exit code, and stdout for --json (the JSON alone), else everything printed."""
    result = runner.invoke(app, ["--data-dir", str(data), *args])
    return result.exit_code, result.stdout if "--json" in args else result.output


def test_text_items_through_the_commands(tmp_path: Path) -> None:
    data = tmp_path / "data"
    ids = []
    for name, text in (("v1.txt", VIDEO_1), ("v2.txt", VIDEO_2)):
        (tmp_path / name).write_text(text, encoding="utf-8")
        code, output = _cli(
            data, "ingest", "--text", str(tmp_path / name), "--lang", "ru", "--json"
        )
        assert code == 0, output
        ids.append(json.loads(output)["item_id"])
        code, output = _cli(data, "process", ids[-1])
        assert code == 0, output
    code, output = _cli(data, "analyse", ids[0], "--json")
    assert code == 0, output
    first = json.loads(output)
    assert first["item_id"] == ids[0] and first["language"] == "ru"
    assert {"96th Regiment", "Udmurtia"} <= {e["english"] for e in first["named"]}
    assert sum(c["stance"] == "complaint" for c in first["claims"]) >= 7

    code, output = _cli(data, "links", ids[1], "--json")
    assert code == 0, output
    result = json.loads(output)
    assert {r["kind"] for r in result["links"]} >= {"same-unit", "follow-up", "retracts"}
    assert len(result["retractions"][0]["never_addressed"]) == 3

    code, output = _cli(data, "links", ids[1], "--confirm", "retracts", "--other", ids[0], "--json")
    assert code == 0, output
    confirmed = {r["kind"]: r["confirmed"] for r in json.loads(output)["links"]}
    assert confirmed["retracts"] is True and confirmed["follow-up"] is False

    code, output = _cli(data, "claims", "--topic", "water", "--json")
    assert code == 0, output
    water = json.loads(output)
    assert [(c["item_id"], c["stance"]) for c in water] == [(ids[0], "complaint")]
    code, output = _cli(data, "claims", "--stance", "denial", "--json")
    assert [(c["item_id"], c["topic"], c["blanket"]) for c in json.loads(output)] == [
        (ids[1], "command", True)
    ]

    code, output = _cli(data, "show", ids[0], "--json")
    shown = json.loads(output)["analysis"]
    assert {"kind": "unit", "english": "96th Regiment"} in shown["named"]
    assert shown["stances"]["complaint"] >= 7

    code, output = _cli(data, "show", ids[1])
    assert code == 0, output
    assert "covered only by a blanket retraction (1)" in output
    assert "never addressed (3)" in output
    assert "претензий к командованию не имеем" in output


def test_bad_text_input_exits_cleanly(tmp_path: Path) -> None:
    data = tmp_path / "data"
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n", encoding="utf-8")
    code, output = _cli(data, "ingest", "--text", str(empty))
    assert code == 2 and "empty" in output
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("Ça va très bien".encode("latin-1"))
    code, output = _cli(data, "ingest", "--text", str(latin1))
    assert code == 2 and "UTF-8" in output
    code, output = _cli(data, "ingest", "--text", str(latin1), "--lang", "de")
    assert code == 2 and "ru" in output
    code, output = _cli(data, "ingest")
    assert code == 2 and "--text" in output
    code, output = _cli(data, "analyse", "nosuchitem")
    assert code == 3


def test_ukrainian_text_item(tmp_path: Path) -> None:
    data = tmp_path / "data"
    post = tmp_path / "post.txt"
    post.write_text(
        "Ми, бійці 47-ї окремої механізованої бригади, з грудня під Авдіївкою. "
        "Нам не вистачає набоїв і води. Командир Олександр Петренко погрожує нам.",
        encoding="utf-8",
    )
    code, output = _cli(data, "ingest", "--text", str(post), "--lang", "uk", "--json")
    assert code == 0, output
    item = json.loads(output)["item_id"]
    assert _cli(data, "process", item)[0] == 0
    code, output = _cli(data, "analyse", item, "--json")
    result = json.loads(output)
    assert result["language"] == "uk"
    named = {(e["kind"], e["english"]) for e in result["named"]}
    assert {
        ("unit", "47th Separate Mechanised Brigade"),
        ("place", "Avdiivka"),
        ("person", "Oleksandr Petrenko"),
        ("date", "since December"),
    } <= named
    pairs = [(c["topic"], c["stance"]) for c in result["claims"]]
    assert ("equipment", "complaint") in pairs and ("water", "complaint") in pairs
    assert ("threats", "complaint") in pairs


def test_show_says_what_the_learned_models_changed(capsys: pytest.CaptureFixture[str]) -> None:
    from tolmach.cli_analysis import print_claims

    claim = {"id": 1, "blanket": False, "t_start": None, "text": "x", "english": ""}
    data = {
        "named": [],
        "claims": [
            claim | {"stance": "complaint", "topic": "pay", "method": "keywords"},
            claim
            | {
                "id": 2,
                "stance": "complaint",
                "topic": "command",
                "method": "model",
                "topic_p": 0.9012,
                "rule_stance": "affirmation",
                "stance_p": 0.81,
            },
        ],
    }
    print_claims(data)
    first, second = capsys.readouterr().out.split("#2")
    assert "model" not in first
    assert "(topic by model, p 0.90; stance by model, p 0.81, rules: affirmation)" in second
