"""Engines behind small interfaces: speech recognition (asr), translation (mt)."""
