"""The Alembic migrations build exactly the schema the models describe, and
``init-db`` is idempotent."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from server.extensions import db
from server.models import FeedState


def test_migrations_match_the_models(backend, tmp_path, request):
    from ..conftest import make_app

    app = make_app(backend, tmp_path, request)
    with app.app_context():
        db.drop_all()
        # Also drop Alembic's bookkeeping so the upgrade starts from nothing.
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        runner = app.test_cli_runner()
        for _ in range(2):
            result = runner.invoke(args=["init-db"])
            assert result.exit_code == 0, result.output
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert diff == []
        assert db.session.get(FeedState, 1) is not None
        assert "alembic_version" in inspect(db.engine).get_table_names()
        if backend == "postgres":
            # Leave the shared test database as the other tests expect it.
            with db.engine.begin() as conn:
                conn.exec_driver_sql("DROP TABLE alembic_version")
