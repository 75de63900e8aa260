{#- Generic test: no two rows share the values of `columns` (dbt-utils is not downloaded).
    dbt 1.10+ passes the `arguments:` block as keyword arguments; 1.8 and 1.9 pass it whole. -#}
{% test segwise_unique_key(model, columns=none, arguments=none) %}
{%- set columns = columns if columns is not none else arguments['columns'] -%}
select {{ columns | join(', ') }}, count(*) as copies
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
