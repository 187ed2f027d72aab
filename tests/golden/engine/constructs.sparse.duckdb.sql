SELECT
  *
FROM (
  SELECT
    uscc,
    town,
    'a.field' AS tag_id,
    CAST(NULL AS DECIMAL(38, 6)) AS value
  FROM tag_matrix
  WHERE
    t_a__field
  UNION ALL
  SELECT
    uscc,
    town,
    'b.series_sum' AS tag_id,
    CAST(NULL AS DECIMAL(38, 6)) AS value
  FROM tag_matrix
  WHERE
    t_b__series_sum
  UNION ALL
  SELECT
    uscc,
    town,
    'c.same_period_last_year' AS tag_id,
    CAST(NULL AS DECIMAL(38, 6)) AS value
  FROM tag_matrix
  WHERE
    t_c__same_period_last_year
  UNION ALL
  SELECT
    uscc,
    town,
    'd.growth' AS tag_id,
    CAST(NULL AS DECIMAL(38, 6)) AS value
  FROM tag_matrix
  WHERE
    t_d__growth
  UNION ALL
  SELECT
    uscc,
    town,
    'e.avg_latest_min_max' AS tag_id,
    CAST(NULL AS DECIMAL(38, 6)) AS value
  FROM tag_matrix
  WHERE
    t_e__avg_latest_min_max
  UNION ALL
  SELECT
    uscc,
    town,
    'f.months_with_data' AS tag_id,
    CAST(NULL AS DECIMAL(38, 6)) AS value
  FROM tag_matrix
  WHERE
    t_f__months_with_data
  UNION ALL
  SELECT
    uscc,
    town,
    'g.events' AS tag_id,
    CAST(NULL AS DECIMAL(38, 6)) AS value
  FROM tag_matrix
  WHERE
    t_g__events
  UNION ALL
  SELECT
    uscc,
    town,
    'h.event_sum_max' AS tag_id,
    CAST(NULL AS DECIMAL(38, 6)) AS value
  FROM tag_matrix
  WHERE
    t_h__event_sum_max
  UNION ALL
  SELECT
    uscc,
    town,
    'i.industry' AS tag_id,
    CAST(NULL AS DECIMAL(38, 6)) AS value
  FROM tag_matrix
  WHERE
    t_i__industry
  UNION ALL
  SELECT
    uscc,
    town,
    'j.size_scope' AS tag_id,
    CAST(NULL AS DECIMAL(38, 6)) AS value
  FROM tag_matrix
  WHERE
    t_j__size_scope
  UNION ALL
  SELECT
    uscc,
    town,
    'k.ratio' AS tag_id,
    CAST(NULL AS DECIMAL(38, 6)) AS value
  FROM tag_matrix
  WHERE
    t_k__ratio
  UNION ALL
  SELECT
    uscc,
    town,
    'l.age' AS tag_id,
    CAST(NULL AS DECIMAL(38, 6)) AS value
  FROM tag_matrix
  WHERE
    t_l__age
  UNION ALL
  SELECT
    uscc,
    town,
    'm.rank' AS tag_id,
    CAST(NULL AS DECIMAL(38, 6)) AS value
  FROM tag_matrix
  WHERE
    t_m__rank
  UNION ALL
  SELECT
    uscc,
    town,
    'n.text_town' AS tag_id,
    CAST(NULL AS DECIMAL(38, 6)) AS value
  FROM tag_matrix
  WHERE
    t_n__text_town
  UNION ALL
  SELECT
    uscc,
    town,
    'o.coalesce' AS tag_id,
    CAST(NULL AS DECIMAL(38, 6)) AS value
  FROM tag_matrix
  WHERE
    t_o__coalesce
  UNION ALL
  SELECT
    uscc,
    town,
    'p.tag_reference' AS tag_id,
    CAST(NULL AS DECIMAL(38, 6)) AS value
  FROM tag_matrix
  WHERE
    t_p__tag_reference
) AS tagged
ORDER BY
  uscc,
  tag_id
