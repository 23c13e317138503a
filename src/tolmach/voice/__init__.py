"""The English voice-over: speech text, slot fitting, mixing, disclosure, provenance, narration."""
