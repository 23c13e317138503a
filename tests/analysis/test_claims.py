"""Claims: clause splitting, topics by lemma keywords and embeddings, stances by rule."""

from __future__ import annotations

import pytest

from tolmach.analysis import topics
from tolmach.analysis.claims import extract
from tolmach.analysis.stance import stance_of
from tolmach.errors import InputError


def _pairs(text: str, language: str = "ru") -> list[tuple[str, str]]:
    return [(c.topic, c.stance) for c in extract(text, language)]


@pytest.mark.parametrize(
    ("text", "stance"),
    [
        ("Нам не хватает воды", "complaint"),
        ("Нам не выплатили обещанные деньги", "complaint"),
        ("Мы ни разу не были в отпуске", "complaint"),
        ("Нам не вистачає набоїв", "complaint"),
        ("Жодного разу не було ротації", "complaint"),
        ("Мы обеспечены полностью", "affirmation"),
        ("Ми повністю забезпечені", "affirmation"),
        ("Претензий к командованию не имеем", "denial"),
        ("Претензій до командування не маємо", "denial"),
        ("Никто нас не заставлял", "denial"),
        ("Мы хотим извиниться за предыдущее видео", "retraction"),
        ("Прошу прощения у командования полка", "retraction"),
        ("Мы отказываемся от своих слов", "retraction"),
        ("Ми відкликаємо своє звернення", "retraction"),
        ("Раненых принимают без всяких ограничений", "affirmation"),
        ("Обещанные выплаты получили единицы", "complaint"),
        ("Вибачаємося за попереднє відео", "retraction"),
        ("Видео было снято на эмоциях", "explanation"),
        ("Відео було знято через втому", "explanation"),
    ],
)
def test_stance_rules(text: str, stance: str) -> None:
    assert stance_of(text)[0] == stance


def test_blanket_denial_is_marked() -> None:
    assert stance_of("претензий к командованию не имеем")[:2] == ("denial", True)
    assert stance_of("Мы обеспечены полностью")[:2] == ("affirmation", False)
    assert stance_of("Погода сегодня", has_topic=False)[0] == ""


def test_coordinated_topics_give_one_claim_each() -> None:
    assert _pairs("Нам не хватает воды и одежды.") == [
        ("water", "complaint"),
        ("clothing", "complaint"),
    ]
    assert _pairs("Нам не вистачає води, їжі та набоїв.", "uk") == [
        ("water", "complaint"),
        ("food", "complaint"),
        ("equipment", "complaint"),
    ]


def test_heaviest_topic_wins_when_not_coordinated() -> None:
    # command and equipment are named; the claim is about equipment
    (claim,) = extract("Командование заставляет нас покупать снаряжение за свои деньги.", "ru")
    assert (claim.topic, claim.stance) == ("equipment", "complaint")
    assert set(claim.also) == {"command"}  # "за свои деньги" says who paid: not a pay claim


def test_clauses_split_at_but_and_between_full_clauses() -> None:
    text = "Мы откликнулись на призыв, но командиры мешают нам."
    assert [c.text for c in extract(text, "ru")] == [
        "Мы откликнулись на призыв",
        "командиры мешают нам.",
    ]
    # a part that names no topic and takes no stance is not a claim of its own
    (whole,) = extract("Мы готовы выполнять свой долг, но командиры мешают нам.", "ru")
    assert whole.topic == "command" and whole.text.startswith("Мы готовы")
    claims = extract("Мы обеспечены полностью, претензий к командованию не имеем.", "ru")
    assert [(c.topic, c.stance, c.blanket) for c in claims] == [
        ("supplies", "affirmation", False),
        ("command", "denial", True),
    ]
    # "либо ..., либо ..." stays one claim
    (parcels,) = extract("Посылки либо не доходят, либо приходят вскрытыми.", "ru")
    assert parcels.topic == "mail" and parcels.end - parcels.start > 40


def test_spans_point_into_the_text() -> None:
    text = "Привет всем. Нам не выплатили зарплату. Спасибо."
    (claim,) = extract(text, "ru")
    assert text[claim.start : claim.end] == claim.text == "Нам не выплатили зарплату."
    assert (claim.topic, claim.stance) == ("pay", "complaint")


def test_embedding_fallback_when_no_keyword() -> None:
    # no topic keyword; a stance marker; the description nearest by e5 is water
    claims = extract("Пить нечего, колодцы пересохли, нет ничего попить.", "ru")
    assert claims and claims[0].method in {"embedding", "none"}
    assert claims[0].stance == "complaint"
    assert "similarity" in claims[0].extra


def test_no_claims_in_small_talk() -> None:
    assert extract("Привет всем. Сегодня хорошая погода. До свидания.", "ru") == []


def test_taxonomy_file_is_checked() -> None:
    with pytest.raises(InputError, match="no keywords"):
        topics.parse("[pay]\nlabel = 'pay'\n")
    with pytest.raises(InputError):
        topics.parse("[pay\n")
    tax = topics.load()
    assert tax.answers("supplies", "water") and not tax.answers("supplies", "pay")
    assert len(tax.topics) >= 13


def test_stance_examples_lean_the_right_way() -> None:
    from tolmach.analysis.polarity import example_margins

    broken, fine = example_margins(["Техника у нас вся поломана.", "Нам всё привезли."])
    assert broken > 0 > fine


@pytest.mark.parametrize(
    ("text", "language", "stance"),
    [
        ("Довольствие больше не задерживают", "ru", "affirmation"),
        ("Нас там никогда не били", "ru", "denial"),
        ("Ротний постійно ображає хлопців", "uk", "complaint"),
        ("Не бросайте нас здесь", "ru", "complaint"),
        ("Нормальной обуви нам так и не дали", "ru", "complaint"),
        ("Патронов выдают по три штуки", "ru", "complaint"),
        ("Хлеба дают полбуханки на пятерых", "ru", "complaint"),
        ("Ми чекаємо на заміну тижнями", "uk", "complaint"),
        ("Никакого давления на нас со стороны начальства не было", "ru", "denial"),
        ("Жодних погроз від командира не надходило", "uk", "denial"),
        ("Продукты подвозят без перебоев", "ru", "affirmation"),
        ("Мы были злы и уставшие", "ru", "explanation"),
        ("Потерь от нас никто не скрывал", "ru", "denial"),
        ("Никаких наказаний за отказ нам не грозило", "ru", "denial"),
        ("Вопросов к начальству у нас больше нет", "ru", "denial"),
        ("Із пальним жодних перебоїв немає", "uk", "affirmation"),
        ("Ми були неправі, коли це казали", "uk", "retraction"),
        ("Я уже второй год без отпуска", "ru", "complaint"),
        ("Простите нас, пожалуйста", "ru", "retraction"),
        ("Тот ролик смонтировали без нашего ведома", "ru", "denial"),
        ("Аккумуляторы для раций покупаем на рынке", "ru", "complaint"),
        ("Евакуацію чекаємо по шість годин", "uk", "complaint"),
        ("Никто нас в подвале не запирал", "ru", "denial"),
        ("Жаловаться нам никто не запрещал", "ru", "denial"),
        ("Никаких наказаний за отказ у нас нет", "ru", "denial"),
        ("Мы сильно преувеличили", "ru", "retraction"),
        ("Мы всем полностью довольны", "ru", "denial"),
        ("Наші слова вирвали з контексту", "uk", "denial"),
        ("Дедовщины у нас в роте нет", "ru", "denial"),
        ("Зауважень до командира не маємо", "uk", "denial"),
        ("Раненых увозят без промедления", "ru", "affirmation"),
        ("Бензин возим на своей машине", "ru", "complaint"),
        ("На всю роту лише одна рація", "uk", "complaint"),
        ("Ми не мали записувати те звернення", "uk", "retraction"),
        ("Рації отримали всі без винятку", "uk", "affirmation"),
        ("Эти сведения не подтвердились", "ru", "denial"),
        ("Патроны выдали только старые", "ru", "complaint"),
    ],
)
def test_stance_words_quantities_and_negation(text: str, language: str, stance: str) -> None:
    assert stance_of(text, language=language)[0] == stance


def test_stance_word_alone_is_no_claim_without_a_topic() -> None:
    assert stance_of("Сегодня тепло", has_topic=False)[0] == ""
    assert stance_of("Обед сегодня тёплый", has_topic=True)[0] == "affirmation"


def test_a_recantation_leans_plain_statements_towards_affirmation() -> None:
    grievance = extract("Нам не выплатили деньги. Раненые лежат в блиндаже.", "ru")
    assert grievance[-1].stance == "complaint" and "stance_margin" in grievance[-1].extra
    recant = extract("Приносим извинения. Кормят нас теперь в столовой.", "ru")
    assert recant[-1].topic == "food" and recant[-1].stance == "affirmation"
    assert "stance_margin" in recant[-1].extra


def test_reachability_is_not_mail() -> None:
    (claim,) = extract("Ротный на связь не выходит уже неделю.", "ru")
    assert (claim.topic, claim.stance) == ("command", "complaint")


def test_where_a_thing_comes_from_is_not_the_topic() -> None:
    claims = extract("Хлеб и воду сбрасывают с дронов, на всех не хватает.", "ru")
    assert [c.topic for c in claims] == ["food", "water"]


def test_a_weak_affirmation_is_weighed_by_the_examples() -> None:
    # "получили" alone would be an affirmation; in a grievance the examples overrule it
    *_, radios = extract("Нам не платят. Воды нет. Рации получили только гражданские.", "ru")
    assert (radios.stance, radios.evidence) == ("complaint", "получили")
    assert "stance_margin" in radios.extra
    _, fine = extract("Просим прощения. Рации нам выдали новые.", "ru")
    assert fine.stance == "affirmation"


def test_a_phrase_keyword_outweighs_its_words() -> None:
    # "деньги" alone is pay; demanded from the soldiers by commanders it is extortion, in
    # either order and with words between
    assert _pairs("Командиры требуют с нас деньги за отпуск")[0] == ("threats", "complaint")
    assert _pairs("Гроші з нас ніхто не вимагав", "uk")[0] == ("threats", "denial")
    assert _pairs("Нам не выплатили деньги")[0] == ("pay", "complaint")
    # a medical commission is about how people were mobilised, not medical care
    assert _pairs("Нас отправили на фронт без медицинской комиссии")[0][0] == "mobilisation"


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        # a request in a grievance says what is missing
        ("Просим дать нам нормальную подготовку.", "ru", ("training", "complaint")),
        # a promise told of is a broken one
        ("Обіцяли відпустку на десять днів.", "uk", ("leave", "complaint")),
        # how many are left in the ranks is a count of the dead and wounded
        (
            "Из ста двадцати человек в строю осталось девятнадцать.",
            "ru",
            ("casualties", "complaint"),
        ),
        ("Виплати за поранення ніхто не отримав.", "uk", ("pay", "complaint")),
    ],
)
def test_requests_promises_and_counts(text: str, language: str, expected: tuple[str, str]) -> None:
    assert _pairs(text, language)[0] == expected


@pytest.mark.parametrize(
    ("text", "language", "stance"),
    [
        ("Всё у нас в порядке.", "ru", "denial"),
        ("Мы, бойцы четвёртой роты, от своих слов отказываемся.", "ru", "retraction"),
        ("Мы записываем это видео сами, без давления.", "ru", "denial"),
        ("Перед відправкою ми мали лише п'ять днів підготовки.", "uk", "complaint"),
        ("Претензий к командованию батальона и роты мы не имеем.", "ru", "denial"),
    ],
)
def test_follow_up_wordings(text: str, language: str, stance: str) -> None:
    assert _pairs(text, language)[0][1] == stance


def test_a_promise_leans_with_the_statement() -> None:
    grievance = "Нам не платят. Обещали отпуск через полгода. Воды нет."
    assert ("leave", "complaint") in _pairs(grievance)
    recantation = "Извиняемся за прошлое видео. Нам пообещали ротацию в следующем месяце."
    assert ("leave", "affirmation") in _pairs(recantation)


def test_an_explanation_by_the_heat_of_the_moment_is_about_morale() -> None:
    assert _pairs("Прошлое видео записали сгоряча, после потери товарищей.") == [
        ("morale", "explanation")
    ]
    assert _pairs("Ми погарячкували, коли записували те відео.", "uk") == [
        ("morale", "explanation")
    ]


def test_a_reason_that_names_its_own_topic_is_a_claim_of_its_own() -> None:
    pairs = _pairs("Свои накрыли наш опорник, двое погибли, потому что раций нет.")
    assert ("casualties", "complaint") in pairs and ("equipment", "complaint") in pairs
    assert _pairs("Вода есть, питание нормальное.") == [
        ("water", "affirmation"),
        ("food", "affirmation"),
    ]
