"""Analysis of a statement in its source language: entities, claims, links and retractions.

Modules: ``translit`` (Cyrillic to Latin), ``lexicon`` (shared language tools, loaded once),
``entities``, ``claims``, ``links``, ``retractions``. Nothing here reads the machine
translation to decide anything; the English is only carried along as evidence.
"""
