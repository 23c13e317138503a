"""The learned topic and stance models: training on real e5 embeddings, saving and loading,
and what the shipped models change in claim extraction."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tolmach.analysis import learned, linear, topics
from tolmach.analysis.claims import Claim, extract

TRAIN = [
    ("Нам не дают воды", "water"),
    ("Воду привозят раз в неделю", "water"),
    ("Вода закончилась три дня назад", "water"),
    ("Зарплату не платят", "pay"),
    ("Денежное довольствие задерживают", "pay"),
    ("Обещанные выплаты не пришли", "pay"),
    ("Раненых не эвакуируют", "medical"),
    ("Медиков в роте нет", "medical"),
    ("Перевязать раненого нечем", "medical"),
]
LABELS = ["water", "pay", "medical"]


def _fit(embedding: bool = True) -> linear.Model:
    texts = [t for t, _ in TRAIN]
    extra = np.zeros((len(TRAIN), 0), np.float32)
    labels = [y for _, y in TRAIN]
    return linear.train(texts, ["ru"] * len(TRAIN), extra, labels, LABELS, 1, embedding=embedding)


def _guess(model: linear.Model, texts: list[str], allowed: set[str] | None = None) -> list[str]:
    none = np.zeros((len(texts), 0), np.float32)
    return [y for y, _ in model.predict(texts, ["ru"] * len(texts), none, allowed)]


def test_training_learns_the_labels_and_survives_a_round_trip(tmp_path: Path) -> None:
    model = _fit()
    texts = [t for t, _ in TRAIN]
    assert _guess(model, texts) == [y for _, y in TRAIN]
    # a sentence it has not seen, by shared words and meaning
    assert _guess(model, ["Выплаты опять задерживают"]) == ["pay"]
    model.save(tmp_path / "m.npz")
    again = linear.load(tmp_path / "m.npz")
    assert again is not None and again.labels == LABELS
    assert _guess(again, texts) == _guess(model, texts)


def test_a_model_without_the_embedding_learns_from_lemmas(tmp_path: Path) -> None:
    model = _fit(embedding=False)
    assert model.weights.shape[0] == len(model.vocabulary) + 1  # lemmas and the bias
    assert _guess(model, [t for t, _ in TRAIN]) == [y for _, y in TRAIN]
    model.save(tmp_path / "m.npz")
    again = linear.load(tmp_path / "m.npz")
    assert again is not None and not again.embedding


def test_only_allowed_labels_are_predicted() -> None:
    model = _fit()
    assert _guess(model, ["Зарплату не платят"], {"water", "medical"}) != ["pay"]


def test_no_model_files_leave_the_rules(tmp_path: Path) -> None:
    assert learned.load(tmp_path) == learned.NONE
    text = "Нас используют как носильщиков: таскаем снаряды на себе по ночам."
    assert [c.method for c in extract(text, "ru", models=learned.load(tmp_path))] == ["keywords"]


def test_shipped_topic_model_names_the_grievance_where_keywords_name_the_object() -> None:
    models = learned.load()
    assert models.topic and set(models.topic.labels) <= set(topics.load().topics)
    text = "Нас используют как носильщиков: таскаем снаряды на себе по ночам."
    (rules,) = extract(text, "ru", models=learned.NONE)
    (both,) = extract(text, "ru")
    assert (rules.topic, rules.method) == ("equipment", "keywords")
    assert (both.topic, both.method) == ("command", "model")
    assert both.extra["topic_p"] >= learned.TOPIC_OVERRULE and "equipment" in both.also


def test_shipped_stance_model_reads_a_plain_grievance_as_a_complaint() -> None:
    # no negation, no complaint word: the rules call it an affirmation; in a statement of
    # grievances it is one of them
    text = (
        "Обращаемся к президенту. Зарплату не платят третий месяц. Воды не хватает. "
        "Раненых после перевязки сразу отправляют обратно на позиции."
    )
    rules = [c for c in extract(text, "ru", models=learned.NONE) if c.topic == "medical"]
    both = [c for c in extract(text, "ru") if c.topic == "medical"]
    assert [c.stance for c in rules] == ["affirmation"]
    assert [c.stance for c in both] == ["complaint"]
    assert both[0].extra["rule_stance"] == "affirmation"
    assert both[0].extra["stance_p"] >= learned.STANCE_OVERRULE


def test_shipped_stance_model_keeps_a_plain_statement_of_duty() -> None:
    # the case: "we answered the call" in a grievance is not a complaint
    text = "Нам не выплатили деньги. Мы откликнулись на призыв и готовы выполнять свой долг."
    assert [c.stance for c in extract(text, "ru") if c.topic == "mobilisation"] != ["complaint"]


def test_shipped_models_leave_lists_and_blanket_denials_alone() -> None:
    found = extract("Нам не хватает воды и одежды. Претензий к командованию не имеем.", "ru")
    assert [(c.topic, c.stance, c.method) for c in found] == [
        ("water", "complaint", "keywords"),
        ("clothing", "complaint", "keywords"),
        ("command", "denial", "keywords"),
    ]


def _sure_of(label: str, labels: list[str], extra: int, p: float) -> linear.Model:
    """A model that names ``label`` with probability ``p`` whatever the text (bias only)."""
    weights = np.zeros((384 + extra + 1, len(labels)), np.float32)
    weights[-1, labels.index(label)] = np.log(p * (len(labels) - 1) / (1 - p))
    return linear.Model(labels, {}, weights)


def _claims() -> list[Claim]:
    text = "Нам не хватает воды и одежды. Зарплату не платят. Просим разобраться. Претензий нет."
    return [
        Claim(1, 0, 28, text[0:28], "water", "complaint"),
        Claim(2, 0, 28, text[0:28], "clothing", "complaint"),  # the same clause: a list
        Claim(3, 30, 48, text[30:48], "pay", "complaint"),
        Claim(4, 50, 68, text[50:68], topics.GENERAL, "complaint", method="none"),
        Claim(5, 70, 83, text[70:83], topics.GENERAL, "denial", blanket=True),
    ]


def test_the_topic_model_overrules_single_topics_only_when_sure() -> None:
    tax = topics.load()
    ids, k = list(tax.topics), len(tax.topics)
    sure = learned.Models(_sure_of("command", ids, k, 0.9), None)
    got = [(c.topic, c.method) for c in learned.apply(_claims(), "ru", tax, sure)]
    assert got == [
        ("water", "keywords"),  # a list keeps its topics
        ("clothing", "keywords"),
        ("command", "model"),
        ("command", "model"),
        (topics.GENERAL, "keywords"),  # a blanket denial keeps its group
    ]
    unsure = learned.Models(_sure_of("command", ids, k, learned.TOPIC_OVERRULE - 0.1), None)
    got = [(c.topic, c.method) for c in learned.apply(_claims(), "ru", tax, unsure)]
    assert [t for t, _ in got] == ["water", "clothing", "pay", "command", topics.GENERAL]


def test_the_stance_model_overrules_when_sure_and_never_a_blanket_denial() -> None:
    tax = topics.load()
    n = 2 * len(learned.STANCES) + 1  # one-hot, one-hot scaled by the lean, the lean

    def stances(p: float) -> list[str]:
        sure = learned.Models(None, _sure_of("affirmation", learned.STANCES, n, p))
        return [c.stance for c in learned.apply(_claims(), "ru", tax, sure)]

    assert stances(learned.STANCE_OVERRULE + 0.1) == ["affirmation"] * 4 + ["denial"]
    assert stances(learned.STANCE_OVERRULE - 0.1) == ["complaint"] * 4 + ["denial"]
