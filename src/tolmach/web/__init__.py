"""The web desk (`tolmach serve`)."""
