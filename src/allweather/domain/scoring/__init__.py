"""风险评分 — scoring: the country baseline and, beside it, the method, pressure and index."""
