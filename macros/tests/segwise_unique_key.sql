{#- Generic test: no two rows share the values of `columns` (dbt-utils is not downloaded). -#}
{% test segwise_unique_key(model, columns) %}
select {{ columns | join(', ') }}, count(*) as copies
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
