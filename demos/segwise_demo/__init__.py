"""The demo data set: a deterministic e-commerce + in-app-survey event stream, as Parquet.

`python -m segwise_demo.generate --out data` writes `data/users.parquet` and
`data/events/batch_0000.parquet`; `--append-hours N` adds the next load as
`batch_0001.parquet`, ... `python -m segwise_demo.sizes --data data` prints every demo
segment's member count. `python -m segwise_demo.cdnow --out data/cdnow` converts the real
CDNOW purchase history to the same layout.

Modules:
- `timeline`: epoch-second clock, the span and the load cut-offs;
- `catalog`: fixed reference data (products, cities, campaigns, surveys);
- `personas`: who each user is (how often they come, what they buy), drawn from (seed, id);
- `sessions`: one visit turned into events (browse, cart, checkout, order, surveys);
- `stream`: a user's whole event stream, and how each event is delivered (loaded_at,
  late arrivals, duplicate deliveries);
- `users`: the users relation (traits) and its changes between loads;
- `tables`: TSV staging and DuckDB `COPY ... (FORMAT parquet)` with the exact schemas;
- `generate`: the command line; `sizes`: segment sizes; `cdnow`: the real-data demo.
"""
