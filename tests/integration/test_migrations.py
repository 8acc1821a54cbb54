"""The migrations build exactly the schema the models describe: a column or table added to
core/models.py without a migration (or the other way round) fails here, not on a clinic's upgrade."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from core.migrate import upgrade
from core.models import Base


def test_the_migrated_schema_is_the_models_schema(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    upgrade(url)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    finally:
        engine.dispose()
    assert differences == []
