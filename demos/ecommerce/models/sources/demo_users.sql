-- The demo users (python -m segwise_demo.generate): current state, one row per user.
select * from read_parquet('{{ env_var("SEGWISE_DEMO_DATA", "../../data") }}/users.parquet')
