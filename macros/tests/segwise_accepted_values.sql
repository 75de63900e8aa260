{#- Generic test: dbt's accepted_values, callable with an `arguments:` block on every supported
    dbt version (1.8 and 1.9 pass the block whole instead of as keyword arguments). -#}
{% test segwise_accepted_values(model, column_name, values=none, arguments=none) %}
{%- set values = values if values is not none else arguments['values'] -%}
{{ dbt.test_accepted_values(model, column_name, values) }}
{% endtest %}
