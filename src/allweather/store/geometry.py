"""A geometry column that is PostGIS ``geometry(Geometry, 4326)`` on PostgreSQL and WKB elsewhere.

Values are shapely geometries on both sides. PostgreSQL receives hex EWKB text (PostGIS parses it
into a geometry with its SRID) and returns hex EWKB, which shapely reads directly — so no PostGIS
client library is needed. SQLite stores plain WKB; its spatial prefilter uses the bounding-box
columns that every geometry table carries.
"""

from __future__ import annotations

from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import LargeBinary
from sqlalchemy.dialects.postgresql.base import ischema_names
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine, UserDefinedType

SRID = 4326


class _PostGISGeometry(UserDefinedType[Any]):
    cache_ok = True

    def __init__(self, *_modifiers: Any) -> None:
        # Reflection passes the type modifiers ("Geometry", 4326); the column spec is fixed.
        super().__init__()

    def get_col_spec(self, **kw: Any) -> str:
        return f"geometry(Geometry,{SRID})"


# Let reflection (Alembic's autogenerate, inspection) recognise PostGIS columns.
ischema_names["geometry"] = _PostGISGeometry


class Geometry(TypeDecorator[BaseGeometry]):
    """A WGS84 geometry column (see module docstring)."""

    impl = LargeBinary
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(_PostGISGeometry())
        return dialect.type_descriptor(LargeBinary())

    def process_bind_param(self, value: BaseGeometry | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "postgresql":
            return shapely.to_wkb(shapely.set_srid(value, SRID), hex=True, include_srid=True)
        return shapely.to_wkb(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> BaseGeometry | None:
        if value is None:
            return None
        return shapely.from_wkb(value)
