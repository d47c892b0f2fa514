"""Market-data ingestion: Bithumb public API client, CSV import, writes."""
