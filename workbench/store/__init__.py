"""Store layer: the database (connections, named queries, migrations, bulk Arrow writes), market data
reads with the cache, indicator storage, run storage and manifests."""

from workbench.store.database import Database
from workbench.store.migrations import MigrationStatus, migrate, migration_status

__all__ = ["Database", "MigrationStatus", "migrate", "migration_status"]
