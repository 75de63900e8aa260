-- The demo events: every loaded batch (python -m segwise_demo.generate [--append-hours N]).
select * from read_parquet('{{ env_var("SEGWISE_DEMO_DATA", "../../data") }}/events/*.parquet')
