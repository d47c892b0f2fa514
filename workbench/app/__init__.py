"""The application: the research session, sweeps, optimisation, Dask, reproduction, the paper runner,
reports, users, monitoring and notifications, composed from the core, the store, ingest and services."""
