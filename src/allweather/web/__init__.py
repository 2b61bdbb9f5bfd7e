"""Server-rendered web interface (Jinja2) with vendored MapLibre; loads nothing from the internet."""
