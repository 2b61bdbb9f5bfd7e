"""REST API under /api/v1 (FastAPI); errors are JSON with a machine code and a message."""
