"""Server-rendered web interface (Jinja2), vendored MapLibre: loads nothing from the internet."""
