"""JSON API routers, one module per domain. Input and output schemas are separate pydantic models."""
