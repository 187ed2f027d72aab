"""Server-rendered pages (Simplified Chinese), one module per domain."""
