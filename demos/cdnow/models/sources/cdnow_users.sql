-- CDNOW customers (python -m segwise_demo.cdnow): signup = first purchase, ltv = total spent.
select * from read_parquet('{{ env_var("SEGWISE_DEMO_DATA", "../../data") }}/cdnow/users.parquet')
