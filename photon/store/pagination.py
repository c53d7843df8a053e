"""One way to cut a query into pages: the total for ``X-Pagination`` and one page of rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session


def page(
    session: Session, query: Select, order_by: tuple, page: int, page_size: int
) -> tuple[list[Any], int]:
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    offset = (page - 1) * page_size
    if offset >= total:
        # Past the last page: nothing to read, and an offset past 2**63 would not fit in SQL.
        return [], total
    rows = session.scalars(query.order_by(*order_by).offset(offset).limit(page_size)).all()
    return list(rows), total
