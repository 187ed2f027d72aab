WITH ent AS (
  SELECT
    uscc,
    town_code AS town,
    established_on AS e_established_on,
    industry_code AS e_industry_code,
    legal_form AS e_legal_form,
    registered_capital_fen AS e_registered_capital_fen,
    CASE
      WHEN (
        status <> 'active'
      ) AND (
        status_changed_on > CAST('2026-10-31' AS DATE)
      )
      THEN 'active'
      ELSE status
    END AS e_status,
    town_code AS e_town_code
  FROM enterprises
  WHERE
    (
      established_on IS NULL
    )
    OR (
      established_on <= CAST('2026-10-31' AS DATE)
    )
), agg_certifications AS (
  SELECT
    uscc,
    COUNT(
      CASE
        WHEN (
          (
            valid_until IS NULL
          ) OR (
            valid_until >= CAST('2026-10-31' AS DATE)
          )
        )
        AND (
          kind = 'high_tech'
        )
        THEN 1
      END
    ) AS a_count_certifications_active_0cae6e
  FROM certifications
  WHERE
    (
      NOT certified_on IS NULL
    )
    AND (
      certified_on <= CAST('2026-10-31' AS DATE)
    )
  GROUP BY
    uscc
), agg_financing AS (
  SELECT
    uscc,
    MAX(amount_fen) AS a_max_financing_amount
  FROM financing
  WHERE
    (
      NOT financed_on IS NULL
    ) AND (
      financed_on <= CAST('2026-10-31' AS DATE)
    )
  GROUP BY
    uscc
), agg_ip_rights AS (
  SELECT
    uscc,
    COUNT(
      CASE
        WHEN (
          granted_on > CAST('2025-10-31' AS DATE)
        )
        AND (
          kind IN ('invention_patent')
        )
        THEN 1
      END
    ) AS a_count_ip_rights_m12_ee9af5
  FROM ip_rights
  WHERE
    (
      NOT granted_on IS NULL
    ) AND (
      granted_on <= CAST('2026-10-31' AS DATE)
    )
  GROUP BY
    uscc
), agg_monthly_electricity AS (
  SELECT
    uscc,
    MAX(
      CASE
        WHEN (
          month >= CAST('2026-05-01' AS DATE)
        )
        AND (
          month <= CAST('2026-10-01' AS DATE)
        )
        THEN electricity_kwh
      END
    ) AS a_max_electricity_m6,
    MIN(
      CASE
        WHEN (
          month >= CAST('2026-05-01' AS DATE)
        )
        AND (
          month <= CAST('2026-10-01' AS DATE)
        )
        THEN electricity_kwh
      END
    ) AS a_min_electricity_m6
  FROM monthly_electricity
  WHERE
    (
      month >= CAST('2026-05-01' AS DATE)
    )
    AND (
      month <= CAST('2026-10-01' AS DATE)
    )
  GROUP BY
    uscc
), agg_monthly_social_insurance AS (
  SELECT
    uscc,
    COUNT(
      CASE
        WHEN (
          month >= CAST('2025-11-01' AS DATE)
        )
        AND (
          month <= CAST('2026-10-01' AS DATE)
        )
        THEN headcount
      END
    ) AS a_count_headcount_m12,
    ARG_MAX(
      CASE
        WHEN (
          month >= CAST('2026-08-01' AS DATE)
        )
        AND (
          month <= CAST('2026-10-01' AS DATE)
        )
        THEN headcount
      END,
      CASE
        WHEN (
          (
            month >= CAST('2026-08-01' AS DATE)
          )
          AND (
            month <= CAST('2026-10-01' AS DATE)
          )
        )
        AND (
          NOT headcount IS NULL
        )
        THEN month
      END
    ) AS a_latest_headcount_m3,
    CAST(SUM(
      CASE
        WHEN (
          month >= CAST('2025-11-01' AS DATE)
        )
        AND (
          month <= CAST('2026-10-01' AS DATE)
        )
        THEN headcount
      END
    ) AS BIGINT) AS a_sum_headcount_m12
  FROM monthly_social_insurance
  WHERE
    (
      month >= CAST('2025-11-01' AS DATE)
    )
    AND (
      month <= CAST('2026-10-01' AS DATE)
    )
  GROUP BY
    uscc
), agg_monthly_tax AS (
  SELECT
    uscc,
    COUNT(
      CASE
        WHEN (
          month >= CAST('2026-05-01' AS DATE)
        )
        AND (
          month <= CAST('2026-10-01' AS DATE)
        )
        THEN revenue_fen
      END
    ) AS a_count_revenue_m6,
    COUNT(
      CASE
        WHEN (
          month >= CAST('2026-05-01' AS DATE)
        )
        AND (
          month <= CAST('2026-10-01' AS DATE)
        )
        AND (
          revenue_fen = 0
        )
        THEN revenue_fen
      END
    ) AS a_count_revenue_m6_ee8a26,
    CAST(SUM(
      CASE
        WHEN (
          month >= CAST('2025-11-01' AS DATE)
        )
        AND (
          month <= CAST('2026-10-01' AS DATE)
        )
        THEN revenue_fen
      END
    ) AS BIGINT) AS a_sum_revenue_m12,
    CAST(SUM(
      CASE
        WHEN (
          month >= CAST('2024-11-01' AS DATE)
        )
        AND (
          month <= CAST('2025-10-01' AS DATE)
        )
        THEN revenue_fen
      END
    ) AS BIGINT) AS a_sum_revenue_m12_o12,
    CAST(SUM(
      CASE
        WHEN (
          month >= CAST('2025-11-01' AS DATE)
        )
        AND (
          month <= CAST('2026-10-01' AS DATE)
        )
        THEN tax_fen
      END
    ) AS BIGINT) AS a_sum_tax_m12
  FROM monthly_tax
  WHERE
    (
      month >= CAST('2024-11-01' AS DATE)
    )
    AND (
      month <= CAST('2026-10-01' AS DATE)
    )
  GROUP BY
    uscc
), agg_penalties AS (
  SELECT
    uscc,
    CAST(SUM(CASE WHEN (
      decided_on > CAST('2024-10-31' AS DATE)
    ) THEN fine_fen END) AS BIGINT) AS a_sum_penalties_fine_m24
  FROM penalties
  WHERE
    (
      NOT decided_on IS NULL
    ) AND (
      decided_on <= CAST('2026-10-31' AS DATE)
    )
  GROUP BY
    uscc
), agg_survey_list AS (
  SELECT
    uscc,
    COUNT(*) AS a_count_survey_list
  FROM survey_list
  WHERE
    (
      NOT included_month IS NULL
    )
    AND (
      included_month <= CAST('2026-10-31' AS DATE)
    )
  GROUP BY
    uscc
), annual_latest AS (
  SELECT
    f.uscc,
    f.assets_fen AS y_assets_fen,
    f.employees AS y_employees,
    f.rd_expense_fen AS y_rd_expense_fen,
    f.revenue_fen AS y_revenue_fen
  FROM annual_finance AS f
  JOIN (
    SELECT
      uscc,
      MAX(year) AS year
    FROM annual_finance
    WHERE
      year <= 2025
    GROUP BY
      uscc
  ) AS l
    ON (
      f.uscc = l.uscc
    ) AND (
      f.year = l.year
    )
), base AS (
  SELECT
    ent.uscc,
    ent.town,
    ent.e_established_on,
    ent.e_industry_code,
    ent.e_legal_form,
    ent.e_registered_capital_fen,
    ent.e_status,
    ent.e_town_code,
    COALESCE(agg_certifications.a_count_certifications_active_0cae6e, 0) AS a_count_certifications_active_0cae6e,
    agg_financing.a_max_financing_amount AS a_max_financing_amount,
    COALESCE(agg_ip_rights.a_count_ip_rights_m12_ee9af5, 0) AS a_count_ip_rights_m12_ee9af5,
    agg_monthly_electricity.a_max_electricity_m6 AS a_max_electricity_m6,
    agg_monthly_electricity.a_min_electricity_m6 AS a_min_electricity_m6,
    COALESCE(agg_monthly_social_insurance.a_count_headcount_m12, 0) AS a_count_headcount_m12,
    agg_monthly_social_insurance.a_latest_headcount_m3 AS a_latest_headcount_m3,
    agg_monthly_social_insurance.a_sum_headcount_m12 AS a_sum_headcount_m12,
    COALESCE(agg_monthly_tax.a_count_revenue_m6, 0) AS a_count_revenue_m6,
    COALESCE(agg_monthly_tax.a_count_revenue_m6_ee8a26, 0) AS a_count_revenue_m6_ee8a26,
    agg_monthly_tax.a_sum_revenue_m12 AS a_sum_revenue_m12,
    agg_monthly_tax.a_sum_revenue_m12_o12 AS a_sum_revenue_m12_o12,
    agg_monthly_tax.a_sum_tax_m12 AS a_sum_tax_m12,
    COALESCE(agg_penalties.a_sum_penalties_fine_m24, 0) AS a_sum_penalties_fine_m24,
    COALESCE(agg_survey_list.a_count_survey_list, 0) AS a_count_survey_list,
    annual_latest.y_assets_fen AS y_assets_fen,
    annual_latest.y_employees AS y_employees,
    annual_latest.y_rd_expense_fen AS y_rd_expense_fen,
    annual_latest.y_revenue_fen AS y_revenue_fen,
    ref.ast_large AS ref_ast_large,
    ref.ast_medium AS ref_ast_medium,
    ref.ast_small AS ref_ast_small,
    ref.division AS ref_division,
    ref.emp_large AS ref_emp_large,
    ref.emp_medium AS ref_emp_medium,
    ref.emp_small AS ref_emp_small,
    ref.rev_large AS ref_rev_large,
    ref.rev_medium AS ref_rev_medium,
    ref.rev_small AS ref_rev_small,
    ref.scope_name AS ref_scope_name,
    ref.scope_threshold_fen AS ref_scope_threshold_fen,
    ref.section AS ref_section,
    ref.size_sector AS ref_size_sector
  FROM ent
  LEFT JOIN agg_certifications
    ON agg_certifications.uscc = ent.uscc
  LEFT JOIN agg_financing
    ON agg_financing.uscc = ent.uscc
  LEFT JOIN agg_ip_rights
    ON agg_ip_rights.uscc = ent.uscc
  LEFT JOIN agg_monthly_electricity
    ON agg_monthly_electricity.uscc = ent.uscc
  LEFT JOIN agg_monthly_social_insurance
    ON agg_monthly_social_insurance.uscc = ent.uscc
  LEFT JOIN agg_monthly_tax
    ON agg_monthly_tax.uscc = ent.uscc
  LEFT JOIN agg_penalties
    ON agg_penalties.uscc = ent.uscc
  LEFT JOIN agg_survey_list
    ON agg_survey_list.uscc = ent.uscc
  LEFT JOIN annual_latest
    ON annual_latest.uscc = ent.uscc
  LEFT JOIN ref_class AS ref
    ON ref.class_code = ent.e_industry_code
), rank_base AS (
  SELECT
    ent.uscc,
    ent.town,
    ent.e_town_code,
    agg_monthly_tax.a_sum_tax_m12 AS a_sum_tax_m12
  FROM ent
  LEFT JOIN agg_monthly_tax
    ON agg_monthly_tax.uscc = ent.uscc
), rank_inputs AS (
  SELECT
    uscc,
    a_sum_tax_m12 AS v0,
    e_town_code AS k0_0,
    a_sum_tax_m12 AS v1
  FROM rank_base
), ranks AS (
  SELECT
    uscc,
    CASE
      WHEN v0 IS NULL
      THEN NULL
      ELSE RANK() OVER (PARTITION BY k0_0 ORDER BY v0 DESC)
    END AS r_51803402,
    CASE WHEN v1 IS NULL THEN NULL ELSE RANK() OVER (ORDER BY v1 DESC) END AS r_c84606cb
  FROM rank_inputs
), ranked AS (
  SELECT
    base.*,
    ranks.r_51803402,
    ranks.r_c84606cb
  FROM base
  JOIN ranks
    ON ranks.uscc = base.uscc
), layer_0 AS (
  SELECT
    *,
    e_registered_capital_fen >= 100000000 AS s_9b85c3dd0e,
    e_status = 'active' AS s_f76c65360d
  FROM ranked
), layer_1 AS (
  SELECT
    *,
    s_f76c65360d AND s_9b85c3dd0e AS s_1322969752
  FROM layer_0
)
SELECT
  uscc,
  town,
  a_count_certifications_active_0cae6e,
  a_count_headcount_m12,
  a_count_ip_rights_m12_ee9af5,
  a_count_revenue_m6,
  a_count_revenue_m6_ee8a26,
  a_count_survey_list,
  a_latest_headcount_m3,
  a_max_electricity_m6,
  a_max_financing_amount,
  a_min_electricity_m6,
  a_sum_headcount_m12,
  a_sum_penalties_fine_m24,
  a_sum_revenue_m12,
  a_sum_revenue_m12_o12,
  a_sum_tax_m12,
  e_established_on,
  e_industry_code,
  e_legal_form,
  e_registered_capital_fen,
  e_status,
  e_town_code,
  r_51803402,
  r_c84606cb,
  y_assets_fen,
  y_employees,
  y_rd_expense_fen,
  y_revenue_fen,
  s_1322969752 AS t_a__field,
  a_sum_revenue_m12 >= 2000000000 AS t_b__series_sum,
  a_sum_revenue_m12_o12 > 0 AS t_c__same_period_last_year,
  CASE
    WHEN (
      ABS(a_sum_revenue_m12) < 922337203685477580
    )
    AND (
      ABS(a_sum_revenue_m12_o12) < 922337203685477580
    )
    THEN CASE
      WHEN a_sum_revenue_m12_o12 > 0
      THEN (
        (
          a_sum_revenue_m12 - a_sum_revenue_m12_o12
        ) * 5
      ) >= a_sum_revenue_m12_o12
    END
    ELSE CASE
      WHEN (
        a_sum_revenue_m12_o12 > 0
      )
      THEN (
        CAST(a_sum_revenue_m12 AS DECIMAL(38, 0)) - CAST(a_sum_revenue_m12_o12 AS DECIMAL(38, 0))
      ) >= (
        0.2 * CAST(a_sum_revenue_m12_o12 AS DECIMAL(38, 0))
      )
    END
  END
  AND CASE
    WHEN (
      ABS(a_sum_revenue_m12) < 2305843009213693951
    )
    AND (
      ABS(a_sum_revenue_m12_o12) < 2305843009213693951
    )
    THEN CASE
      WHEN a_sum_revenue_m12_o12 > 0
      THEN (
        (
          a_sum_revenue_m12 - a_sum_revenue_m12_o12
        ) * 2
      ) < a_sum_revenue_m12_o12
    END
    ELSE CASE
      WHEN (
        a_sum_revenue_m12_o12 > 0
      )
      THEN (
        CAST(a_sum_revenue_m12 AS DECIMAL(38, 0)) - CAST(a_sum_revenue_m12_o12 AS DECIMAL(38, 0))
      ) < (
        0.5 * CAST(a_sum_revenue_m12_o12 AS DECIMAL(38, 0))
      )
    END
  END AS t_d__growth,
  CASE
    WHEN (
      ABS(a_sum_headcount_m12) < 46116860184273879
    )
    AND (
      ABS(a_count_headcount_m12) < 46116860184273879
    )
    THEN CASE
      WHEN a_count_headcount_m12 > 0
      THEN a_sum_headcount_m12 >= (
        100 * a_count_headcount_m12
      )
    END
    ELSE CASE
      WHEN (
        a_count_headcount_m12 > 0
      )
      THEN CAST(a_sum_headcount_m12 AS DECIMAL(38, 0)) >= (
        100 * CAST(a_count_headcount_m12 AS DECIMAL(38, 0))
      )
    END
  END
  OR (
    (
      a_latest_headcount_m3 >= 10
    ) AND (
      a_latest_headcount_m3 <= 49
    )
  )
  OR (
    a_min_electricity_m6 >= (
      0.9 * a_max_electricity_m6
    )
  ) AS t_e__avg_latest_min_max,
  a_count_revenue_m6_ee8a26 = a_count_revenue_m6 AS t_f__months_with_data,
  (
    a_count_certifications_active_0cae6e > 0
  )
  AND (
    a_count_ip_rights_m12_ee9af5 >= 1
  ) AS t_g__events,
  (
    a_sum_penalties_fine_m24 >= 50000000
  )
  OR (
    a_max_financing_amount >= 5000000000
  ) AS t_h__event_sum_max,
  (
    (
      ref_section IN ('C')
    )
    OR (
      ref_division IN ('65')
    )
    OR (
      e_industry_code IN ('6432')
    )
  )
  AND (
    NOT (
      e_industry_code IN ('3911')
    )
  ) AS t_i__industry,
  (
    CASE
      WHEN ref_size_sector IS NULL
      THEN NULL
      WHEN (
        (
          NOT ref_emp_small IS NULL
        ) AND (
          y_employees < ref_emp_small
        )
      )
      OR (
        (
          NOT ref_rev_small IS NULL
        ) AND (
          y_revenue_fen < ref_rev_small
        )
      )
      OR (
        (
          NOT ref_ast_small IS NULL
        ) AND (
          y_assets_fen < ref_ast_small
        )
      )
      THEN 'micro'
      WHEN (
        (
          NOT ref_emp_small IS NULL
        ) AND (
          y_employees IS NULL
        )
      )
      OR (
        (
          NOT ref_rev_small IS NULL
        ) AND (
          y_revenue_fen IS NULL
        )
      )
      OR (
        (
          NOT ref_ast_small IS NULL
        ) AND (
          y_assets_fen IS NULL
        )
      )
      THEN NULL
      WHEN (
        (
          ref_emp_small IS NULL
        ) OR (
          y_employees >= ref_emp_large
        )
      )
      AND (
        (
          ref_rev_small IS NULL
        ) OR (
          y_revenue_fen >= ref_rev_large
        )
      )
      AND (
        (
          ref_ast_small IS NULL
        ) OR (
          y_assets_fen >= ref_ast_large
        )
      )
      THEN 'large'
      WHEN (
        (
          ref_emp_small IS NULL
        ) OR (
          y_employees >= ref_emp_medium
        )
      )
      AND (
        (
          ref_rev_small IS NULL
        ) OR (
          y_revenue_fen >= ref_rev_medium
        )
      )
      AND (
        (
          ref_ast_small IS NULL
        ) OR (
          y_assets_fen >= ref_ast_medium
        )
      )
      THEN 'medium'
      ELSE 'small'
    END IN ('small', 'micro')
  )
  AND (
    CASE
      WHEN (
        NOT ref_scope_threshold_fen IS NULL
      )
      AND (
        y_revenue_fen >= ref_scope_threshold_fen
      )
      THEN ref_scope_name
    END IS NULL
  )
  AND (
    a_sum_revenue_m12 >= (
      0.8 * CAST(ref_scope_threshold_fen AS DECIMAL(38, 0))
    )
  ) AS t_j__size_scope,
  CASE
    WHEN (
      ABS(y_rd_expense_fen) < 46116860184273879
    )
    AND (
      ABS(y_revenue_fen) < 46116860184273879
    )
    THEN CASE
      WHEN y_revenue_fen > 0
      THEN (
        y_rd_expense_fen * 100
      ) >= (
        3 * y_revenue_fen
      )
      WHEN y_revenue_fen < 0
      THEN (
        y_rd_expense_fen * 100
      ) <= (
        3 * y_revenue_fen
      )
    END
    ELSE CASE
      WHEN (
        CAST(y_revenue_fen AS DECIMAL(38, 0)) <> 0
      )
      AND (
        CAST(y_revenue_fen AS DECIMAL(38, 0)) > 0
      )
      THEN CAST(y_rd_expense_fen AS DECIMAL(38, 0)) >= (
        0.03 * CAST(y_revenue_fen AS DECIMAL(38, 0))
      )
      WHEN (
        CAST(y_revenue_fen AS DECIMAL(38, 0)) <> 0
      )
      AND (
        CAST(y_revenue_fen AS DECIMAL(38, 0)) < 0
      )
      THEN CAST(y_rd_expense_fen AS DECIMAL(38, 0)) <= (
        0.03 * CAST(y_revenue_fen AS DECIMAL(38, 0))
      )
    END
  END AS t_k__ratio,
  (
    (
      2026 - YEAR(e_established_on) - CASE
        WHEN MONTH(e_established_on) * 100 + DAY(e_established_on) > 1031
        THEN 1
        ELSE 0
      END
    ) >= 3
  )
  AND (
    (
      24322 - (
        YEAR(e_established_on) * 12 + MONTH(e_established_on)
      ) - CASE WHEN DAY(e_established_on) > 31 THEN 1 ELSE 0 END
    ) < 120
  ) AS t_l__age,
  (
    r_c84606cb <= 100
  ) AND (
    r_51803402 <= 10
  ) AS t_m__rank,
  (
    STRPOS(e_legal_form, '股份') > 0
  )
  AND (
    e_town_code IN (
      '330110005',
      '330110009',
      '330110010',
      '330110011',
      '330110012',
      '330110013',
      '330110014',
      '330110109',
      '330110110',
      '330110111',
      '330110112',
      '330110113'
    )
  )
  AND (
    NOT (
      a_count_survey_list > 0
    )
  ) AS t_n__text_town,
  COALESCE(a_sum_revenue_m12_o12, 0) = 0 AS t_o__coalesce,
  s_1322969752 AND (
    y_employees >= 20
  ) AS t_p__tag_reference
FROM layer_1
