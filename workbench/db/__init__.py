"""Database access: connection factory, named queries, migrations, bulk Arrow writes."""

from workbench.db.engine import Database
from workbench.db.migrations import MigrationStatus, migrate, migration_status

__all__ = ["Database", "MigrationStatus", "migrate", "migration_status"]
