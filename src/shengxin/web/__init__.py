"""Web layer: FastAPI app, JSON API routers (``api/``), server-rendered pages (``pages/``, ``ui/``)."""
