"""The project portfolio use case: import (CSV, XLSX, GeoJSON), validation, export."""
