"""Routers of the desk, one module per area; see tolmach.web.app.ROUTERS."""
