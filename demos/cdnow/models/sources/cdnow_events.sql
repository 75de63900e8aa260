-- CDNOW purchases: one order_completed event per purchase, {"amount": dollars, "quantity": cds}.
select * from read_parquet('{{ env_var("SEGWISE_DEMO_DATA", "../../data") }}/cdnow/events/*.parquet')
