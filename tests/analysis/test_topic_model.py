"""The learned topic model: training on real e5 embeddings, saving and loading, and what the
shipped model changes in claim extraction."""

from __future__ import annotations

from pathlib import Path

from tolmach.analysis import topic_model, topics
from tolmach.analysis.claims import extract

TRAIN = [
    ("Нам не дают воды", "ru", "water"),
    ("Воду привозят раз в неделю", "ru", "water"),
    ("Вода закончилась три дня назад", "ru", "water"),
    ("Зарплату не платят", "ru", "pay"),
    ("Денежное довольствие задерживают", "ru", "pay"),
    ("Обещанные выплаты не пришли", "ru", "pay"),
    ("Раненых не эвакуируют", "ru", "medical"),
    ("Медиков в роте нет", "ru", "medical"),
    ("Перевязать раненого нечем", "ru", "medical"),
]


def test_training_learns_the_labels_and_survives_a_round_trip(tmp_path: Path) -> None:
    tax = topics.load()
    model = topic_model.train(TRAIN, tax, min_count=1)
    texts = [t for t, _, _ in TRAIN]
    assert [t for t, _ in model.predict(texts, "ru", tax)] == [t for _, _, t in TRAIN]
    # a sentence it has not seen, by shared words and meaning
    assert model.predict(["Выплаты опять задерживают"], "ru", tax)[0][0] == "pay"
    model.save(tmp_path / "m.npz")
    again = topic_model.load(tmp_path / "m.npz")
    assert again is not None and again.ids == model.ids
    assert again.predict(texts, "ru", tax) == model.predict(texts, "ru", tax)


def test_only_topics_of_the_taxonomy_are_predicted() -> None:
    tax = topics.load()
    model = topic_model.train(TRAIN, tax, min_count=1)
    smaller = topics.Taxonomy({k: v for k, v in tax.topics.items() if k != "pay"})
    assert model.predict(["Зарплату не платят"], "ru", tax)[0][0] == "pay"
    assert model.predict(["Зарплату не платят"], "ru", smaller)[0][0] != "pay"


def test_no_model_file_leaves_the_rules(tmp_path: Path) -> None:
    assert topic_model.load(tmp_path / "absent.npz") is None


def test_shipped_model_names_the_grievance_where_keywords_name_the_object() -> None:
    model = topic_model.load()
    assert model is not None and set(model.ids) <= set(topics.load().topics)
    text = "Нас используют как носильщиков: таскаем снаряды на себе по ночам."
    (rules,) = extract(text, "ru", model=None)
    (learned,) = extract(text, "ru")
    assert (rules.topic, rules.method) == ("equipment", "keywords")
    assert (learned.topic, learned.method) == ("command", "model")
    assert learned.extra["p"] >= 0.7 and "equipment" in learned.also


def test_shipped_model_leaves_lists_and_blanket_denials_alone() -> None:
    found = extract("Нам не хватает воды и одежды. Претензий к командованию не имеем.", "ru")
    assert [(c.topic, c.method) for c in found] == [
        ("water", "keywords"),
        ("clothing", "keywords"),
        ("command", "keywords"),
    ]
