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
), agg_abnormal_operations AS (
  SELECT
    uscc,
    COUNT(*) AS a_count_abnormal_operations,
    COUNT(
      CASE
        WHEN (
          (
            removed_on IS NULL
          ) OR (
            removed_on > CAST('2026-10-31' AS DATE)
          )
        )
        THEN 1
      END
    ) AS a_count_abnormal_operations_active,
    COUNT(CASE WHEN (
      listed_on > CAST('2025-10-31' AS DATE)
    ) THEN 1 END) AS a_count_abnormal_operations_m12
  FROM abnormal_operations
  WHERE
    (
      NOT listed_on IS NULL
    ) AND (
      listed_on <= CAST('2026-10-31' AS DATE)
    )
  GROUP BY
    uscc
), agg_certifications AS (
  SELECT
    uscc,
    COUNT(CASE WHEN (
      kind = 'high_tech'
    ) THEN 1 END) AS a_count_certifications_55bdf5,
    COUNT(
      CASE
        WHEN (
          (
            valid_until IS NULL
          ) OR (
            valid_until >= CAST('2026-10-31' AS DATE)
          )
        )
        THEN 1
      END
    ) AS a_count_certifications_active,
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
    ) AS a_count_certifications_active_0cae6e,
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
          kind = 'little_giant'
        )
        THEN 1
      END
    ) AS a_count_certifications_active_6feaaf,
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
          kind = 'innovative_sme'
        )
        THEN 1
      END
    ) AS a_count_certifications_active_85f7d5,
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
          kind = 'specialised_sme'
        )
        THEN 1
      END
    ) AS a_count_certifications_active_946835,
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
          kind = 'tech_sme'
        )
        THEN 1
      END
    ) AS a_count_certifications_active_c33716,
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
          (
            kind = 'high_tech'
          )
          AND (
            (
              (
                YEAR(valid_until) * 12 + MONTH(valid_until)
              ) - 24322 - CASE WHEN DAY(valid_until) < 31 THEN 1 ELSE 0 END
            ) < 12
          )
        )
        THEN 1
      END
    ) AS a_count_certifications_active_e51147,
    COUNT(
      CASE
        WHEN (
          certified_on > CAST('2025-10-31' AS DATE)
        ) AND (
          kind = 'high_tech'
        )
        THEN 1
      END
    ) AS a_count_certifications_m12_140371
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
), agg_dishonesty_list AS (
  SELECT
    uscc,
    COUNT(*) AS a_count_dishonesty_list,
    COUNT(
      CASE
        WHEN (
          (
            removed_on IS NULL
          ) OR (
            removed_on > CAST('2026-10-31' AS DATE)
          )
        )
        THEN 1
      END
    ) AS a_count_dishonesty_list_active,
    COUNT(CASE WHEN (
      published_on > CAST('2025-10-31' AS DATE)
    ) THEN 1 END) AS a_count_dishonesty_list_m12
  FROM dishonesty_list
  WHERE
    (
      NOT published_on IS NULL
    )
    AND (
      published_on <= CAST('2026-10-31' AS DATE)
    )
  GROUP BY
    uscc
), agg_financing AS (
  SELECT
    uscc,
    COUNT(*) AS a_count_financing,
    COUNT(CASE WHEN (
      round = 'strategic'
    ) THEN 1 END) AS a_count_financing_0603f5,
    COUNT(CASE WHEN (
      round = 'b'
    ) THEN 1 END) AS a_count_financing_1fd11b,
    COUNT(CASE WHEN (
      round = 'c'
    ) THEN 1 END) AS a_count_financing_3c6652,
    COUNT(CASE WHEN (
      round IN ('c', 'd_plus', 'pre_ipo')
    ) THEN 1 END) AS a_count_financing_8c95bd,
    COUNT(CASE WHEN (
      round = 'angel'
    ) THEN 1 END) AS a_count_financing_8cb79d,
    COUNT(CASE WHEN (
      round = 'pre_ipo'
    ) THEN 1 END) AS a_count_financing_952640,
    COUNT(CASE WHEN (
      round = 'd_plus'
    ) THEN 1 END) AS a_count_financing_a76ad6,
    COUNT(CASE WHEN (
      round IN ('b', 'c', 'd_plus', 'pre_ipo')
    ) THEN 1 END) AS a_count_financing_f184c8,
    COUNT(CASE WHEN (
      round = 'a'
    ) THEN 1 END) AS a_count_financing_f277fa,
    COUNT(CASE WHEN (
      financed_on > CAST('2025-10-31' AS DATE)
    ) THEN 1 END) AS a_count_financing_m12,
    COUNT(CASE WHEN (
      financed_on > CAST('2024-10-31' AS DATE)
    ) THEN 1 END) AS a_count_financing_m24,
    MAX(amount_fen) AS a_max_financing_amount,
    CAST(SUM(amount_fen) AS BIGINT) AS a_sum_financing_amount
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
    COUNT(*) AS a_count_ip_rights,
    COUNT(CASE WHEN (
      kind = 'software_copyright'
    ) THEN 1 END) AS a_count_ip_rights_667be5,
    COUNT(CASE WHEN (
      kind = 'utility_model'
    ) THEN 1 END) AS a_count_ip_rights_88c606,
    COUNT(CASE WHEN (
      kind = 'design_patent'
    ) THEN 1 END) AS a_count_ip_rights_b6cdf0,
    COUNT(CASE WHEN (
      kind = 'invention_patent'
    ) THEN 1 END) AS a_count_ip_rights_e4e516,
    COUNT(
      CASE
        WHEN (
          granted_on > CAST('2025-10-31' AS DATE)
        ) AND (
          kind = 'invention_patent'
        )
        THEN 1
      END
    ) AS a_count_ip_rights_m12_30b03f,
    COUNT(
      CASE
        WHEN (
          granted_on > CAST('2025-10-31' AS DATE)
        )
        AND (
          kind = 'software_copyright'
        )
        THEN 1
      END
    ) AS a_count_ip_rights_m12_675608
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
    COUNT(
      CASE
        WHEN (
          month >= CAST('2025-11-01' AS DATE)
        )
        AND (
          month <= CAST('2026-10-01' AS DATE)
        )
        THEN electricity_kwh
      END
    ) AS a_count_electricity_m12,
    COUNT(
      CASE
        WHEN (
          month >= CAST('2024-11-01' AS DATE)
        )
        AND (
          month <= CAST('2025-10-01' AS DATE)
        )
        THEN electricity_kwh
      END
    ) AS a_count_electricity_m12_o12,
    SUM(
      CASE
        WHEN (
          month >= CAST('2025-11-01' AS DATE)
        )
        AND (
          month <= CAST('2026-10-01' AS DATE)
        )
        THEN electricity_kwh
      END
    ) AS a_sum_electricity_m12,
    SUM(
      CASE
        WHEN (
          month >= CAST('2024-11-01' AS DATE)
        )
        AND (
          month <= CAST('2025-10-01' AS DATE)
        )
        THEN electricity_kwh
      END
    ) AS a_sum_electricity_m12_o12,
    SUM(
      CASE
        WHEN (
          month >= CAST('2026-08-01' AS DATE)
        )
        AND (
          month <= CAST('2026-10-01' AS DATE)
        )
        THEN electricity_kwh
      END
    ) AS a_sum_electricity_m3,
    SUM(
      CASE
        WHEN (
          month >= CAST('2025-08-01' AS DATE)
        )
        AND (
          month <= CAST('2025-10-01' AS DATE)
        )
        THEN electricity_kwh
      END
    ) AS a_sum_electricity_m3_o12
  FROM monthly_electricity
  WHERE
    (
      month >= CAST('2024-11-01' AS DATE)
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
    COUNT(
      CASE
        WHEN (
          month >= CAST('2024-11-01' AS DATE)
        )
        AND (
          month <= CAST('2025-10-01' AS DATE)
        )
        THEN headcount
      END
    ) AS a_count_headcount_m12_o12,
    COUNT(
      CASE
        WHEN (
          month >= CAST('2026-05-01' AS DATE)
        )
        AND (
          month <= CAST('2026-10-01' AS DATE)
        )
        THEN headcount
      END
    ) AS a_count_headcount_m6,
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
    MAX(
      CASE
        WHEN (
          month >= CAST('2025-11-01' AS DATE)
        )
        AND (
          month <= CAST('2026-10-01' AS DATE)
        )
        THEN headcount
      END
    ) AS a_max_headcount_m12,
    MIN(
      CASE
        WHEN (
          month >= CAST('2025-11-01' AS DATE)
        )
        AND (
          month <= CAST('2026-10-01' AS DATE)
        )
        THEN headcount
      END
    ) AS a_min_headcount_m12,
    CAST(SUM(
      CASE
        WHEN (
          month >= CAST('2026-10-01' AS DATE)
        )
        AND (
          month <= CAST('2026-10-01' AS DATE)
        )
        THEN headcount
      END
    ) AS BIGINT) AS a_sum_headcount_m1,
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
    ) AS BIGINT) AS a_sum_headcount_m12,
    CAST(SUM(
      CASE
        WHEN (
          month >= CAST('2024-11-01' AS DATE)
        )
        AND (
          month <= CAST('2025-10-01' AS DATE)
        )
        THEN headcount
      END
    ) AS BIGINT) AS a_sum_headcount_m12_o12,
    CAST(SUM(
      CASE
        WHEN (
          month >= CAST('2026-09-01' AS DATE)
        )
        AND (
          month <= CAST('2026-09-01' AS DATE)
        )
        THEN headcount
      END
    ) AS BIGINT) AS a_sum_headcount_m1_o1,
    CAST(SUM(
      CASE
        WHEN (
          month >= CAST('2026-07-01' AS DATE)
        )
        AND (
          month <= CAST('2026-07-01' AS DATE)
        )
        THEN headcount
      END
    ) AS BIGINT) AS a_sum_headcount_m1_o3,
    CAST(SUM(
      CASE
        WHEN (
          month >= CAST('2026-08-01' AS DATE)
        )
        AND (
          month <= CAST('2026-10-01' AS DATE)
        )
        THEN headcount
      END
    ) AS BIGINT) AS a_sum_headcount_m3,
    CAST(SUM(
      CASE
        WHEN (
          month >= CAST('2025-08-01' AS DATE)
        )
        AND (
          month <= CAST('2025-10-01' AS DATE)
        )
        THEN headcount
      END
    ) AS BIGINT) AS a_sum_headcount_m3_o12
  FROM monthly_social_insurance
  WHERE
    (
      month >= CAST('2024-11-01' AS DATE)
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
          month >= CAST('2025-11-01' AS DATE)
        )
        AND (
          month <= CAST('2026-10-01' AS DATE)
        )
        THEN revenue_fen
      END
    ) AS a_count_revenue_m12,
    COUNT(
      CASE
        WHEN (
          month >= CAST('2025-11-01' AS DATE)
        )
        AND (
          month <= CAST('2026-10-01' AS DATE)
        )
        AND (
          revenue_fen = 0
        )
        THEN revenue_fen
      END
    ) AS a_count_revenue_m12_598e90,
    COUNT(
      CASE
        WHEN (
          month >= CAST('2024-11-01' AS DATE)
        )
        AND (
          month <= CAST('2025-10-01' AS DATE)
        )
        THEN revenue_fen
      END
    ) AS a_count_revenue_m12_o12,
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
    COUNT(
      CASE
        WHEN (
          month >= CAST('2025-11-01' AS DATE)
        )
        AND (
          month <= CAST('2026-10-01' AS DATE)
        )
        THEN tax_fen
      END
    ) AS a_count_tax_m12,
    COUNT(
      CASE
        WHEN (
          month >= CAST('2024-11-01' AS DATE)
        )
        AND (
          month <= CAST('2025-10-01' AS DATE)
        )
        THEN tax_fen
      END
    ) AS a_count_tax_m12_o12,
    COUNT(
      CASE
        WHEN (
          month >= CAST('2026-05-01' AS DATE)
        )
        AND (
          month <= CAST('2026-10-01' AS DATE)
        )
        THEN tax_fen
      END
    ) AS a_count_tax_m6,
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
          month >= CAST('2023-11-01' AS DATE)
        )
        AND (
          month <= CAST('2024-10-01' AS DATE)
        )
        THEN revenue_fen
      END
    ) AS BIGINT) AS a_sum_revenue_m12_o24,
    CAST(SUM(
      CASE
        WHEN (
          month >= CAST('2026-08-01' AS DATE)
        )
        AND (
          month <= CAST('2026-10-01' AS DATE)
        )
        THEN revenue_fen
      END
    ) AS BIGINT) AS a_sum_revenue_m3,
    CAST(SUM(
      CASE
        WHEN (
          month >= CAST('2025-08-01' AS DATE)
        )
        AND (
          month <= CAST('2025-10-01' AS DATE)
        )
        THEN revenue_fen
      END
    ) AS BIGINT) AS a_sum_revenue_m3_o12,
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
    ) AS BIGINT) AS a_sum_tax_m12,
    CAST(SUM(
      CASE
        WHEN (
          month >= CAST('2024-11-01' AS DATE)
        )
        AND (
          month <= CAST('2025-10-01' AS DATE)
        )
        THEN tax_fen
      END
    ) AS BIGINT) AS a_sum_tax_m12_o12,
    CAST(SUM(
      CASE
        WHEN (
          month >= CAST('2026-08-01' AS DATE)
        )
        AND (
          month <= CAST('2026-10-01' AS DATE)
        )
        THEN tax_fen
      END
    ) AS BIGINT) AS a_sum_tax_m3,
    CAST(SUM(
      CASE
        WHEN (
          month >= CAST('2025-08-01' AS DATE)
        )
        AND (
          month <= CAST('2025-10-01' AS DATE)
        )
        THEN tax_fen
      END
    ) AS BIGINT) AS a_sum_tax_m3_o12
  FROM monthly_tax
  WHERE
    (
      month >= CAST('2023-11-01' AS DATE)
    )
    AND (
      month <= CAST('2026-10-01' AS DATE)
    )
  GROUP BY
    uscc
), agg_penalties AS (
  SELECT
    uscc,
    COUNT(CASE WHEN (
      decided_on > CAST('2025-10-31' AS DATE)
    ) THEN 1 END) AS a_count_penalties_m12,
    COUNT(CASE WHEN (
      decided_on > CAST('2024-10-31' AS DATE)
    ) THEN 1 END) AS a_count_penalties_m24,
    MAX(CASE WHEN (
      decided_on > CAST('2024-10-31' AS DATE)
    ) THEN fine_fen END) AS a_max_penalties_fine_m24,
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
    COUNT(*) AS a_count_survey_list,
    COUNT(CASE WHEN (
      scope = 'industry'
    ) THEN 1 END) AS a_count_survey_list_0fa264,
    COUNT(CASE WHEN (
      scope IN ('accommodation', 'catering')
    ) THEN 1 END) AS a_count_survey_list_110c21,
    COUNT(CASE WHEN (
      scope = 'catering'
    ) THEN 1 END) AS a_count_survey_list_16631a,
    COUNT(CASE WHEN (
      scope = 'construction'
    ) THEN 1 END) AS a_count_survey_list_340cd6,
    COUNT(CASE WHEN (
      scope = 'accommodation'
    ) THEN 1 END) AS a_count_survey_list_4fc173,
    COUNT(CASE WHEN (
      scope = 'wholesale'
    ) THEN 1 END) AS a_count_survey_list_5c5f4f,
    COUNT(CASE WHEN (
      scope = 'real_estate'
    ) THEN 1 END) AS a_count_survey_list_7cfbe7,
    COUNT(CASE WHEN (
      scope = 'services'
    ) THEN 1 END) AS a_count_survey_list_99d8ad,
    COUNT(CASE WHEN (
      scope = 'retail'
    ) THEN 1 END) AS a_count_survey_list_dbaaff
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
    COALESCE(agg_abnormal_operations.a_count_abnormal_operations, 0) AS a_count_abnormal_operations,
    COALESCE(agg_abnormal_operations.a_count_abnormal_operations_active, 0) AS a_count_abnormal_operations_active,
    COALESCE(agg_abnormal_operations.a_count_abnormal_operations_m12, 0) AS a_count_abnormal_operations_m12,
    COALESCE(agg_certifications.a_count_certifications_55bdf5, 0) AS a_count_certifications_55bdf5,
    COALESCE(agg_certifications.a_count_certifications_active, 0) AS a_count_certifications_active,
    COALESCE(agg_certifications.a_count_certifications_active_0cae6e, 0) AS a_count_certifications_active_0cae6e,
    COALESCE(agg_certifications.a_count_certifications_active_6feaaf, 0) AS a_count_certifications_active_6feaaf,
    COALESCE(agg_certifications.a_count_certifications_active_85f7d5, 0) AS a_count_certifications_active_85f7d5,
    COALESCE(agg_certifications.a_count_certifications_active_946835, 0) AS a_count_certifications_active_946835,
    COALESCE(agg_certifications.a_count_certifications_active_c33716, 0) AS a_count_certifications_active_c33716,
    COALESCE(agg_certifications.a_count_certifications_active_e51147, 0) AS a_count_certifications_active_e51147,
    COALESCE(agg_certifications.a_count_certifications_m12_140371, 0) AS a_count_certifications_m12_140371,
    COALESCE(agg_dishonesty_list.a_count_dishonesty_list, 0) AS a_count_dishonesty_list,
    COALESCE(agg_dishonesty_list.a_count_dishonesty_list_active, 0) AS a_count_dishonesty_list_active,
    COALESCE(agg_dishonesty_list.a_count_dishonesty_list_m12, 0) AS a_count_dishonesty_list_m12,
    COALESCE(agg_financing.a_count_financing, 0) AS a_count_financing,
    COALESCE(agg_financing.a_count_financing_0603f5, 0) AS a_count_financing_0603f5,
    COALESCE(agg_financing.a_count_financing_1fd11b, 0) AS a_count_financing_1fd11b,
    COALESCE(agg_financing.a_count_financing_3c6652, 0) AS a_count_financing_3c6652,
    COALESCE(agg_financing.a_count_financing_8c95bd, 0) AS a_count_financing_8c95bd,
    COALESCE(agg_financing.a_count_financing_8cb79d, 0) AS a_count_financing_8cb79d,
    COALESCE(agg_financing.a_count_financing_952640, 0) AS a_count_financing_952640,
    COALESCE(agg_financing.a_count_financing_a76ad6, 0) AS a_count_financing_a76ad6,
    COALESCE(agg_financing.a_count_financing_f184c8, 0) AS a_count_financing_f184c8,
    COALESCE(agg_financing.a_count_financing_f277fa, 0) AS a_count_financing_f277fa,
    COALESCE(agg_financing.a_count_financing_m12, 0) AS a_count_financing_m12,
    COALESCE(agg_financing.a_count_financing_m24, 0) AS a_count_financing_m24,
    agg_financing.a_max_financing_amount AS a_max_financing_amount,
    COALESCE(agg_financing.a_sum_financing_amount, 0) AS a_sum_financing_amount,
    COALESCE(agg_ip_rights.a_count_ip_rights, 0) AS a_count_ip_rights,
    COALESCE(agg_ip_rights.a_count_ip_rights_667be5, 0) AS a_count_ip_rights_667be5,
    COALESCE(agg_ip_rights.a_count_ip_rights_88c606, 0) AS a_count_ip_rights_88c606,
    COALESCE(agg_ip_rights.a_count_ip_rights_b6cdf0, 0) AS a_count_ip_rights_b6cdf0,
    COALESCE(agg_ip_rights.a_count_ip_rights_e4e516, 0) AS a_count_ip_rights_e4e516,
    COALESCE(agg_ip_rights.a_count_ip_rights_m12_30b03f, 0) AS a_count_ip_rights_m12_30b03f,
    COALESCE(agg_ip_rights.a_count_ip_rights_m12_675608, 0) AS a_count_ip_rights_m12_675608,
    COALESCE(agg_monthly_electricity.a_count_electricity_m12, 0) AS a_count_electricity_m12,
    COALESCE(agg_monthly_electricity.a_count_electricity_m12_o12, 0) AS a_count_electricity_m12_o12,
    agg_monthly_electricity.a_sum_electricity_m12 AS a_sum_electricity_m12,
    agg_monthly_electricity.a_sum_electricity_m12_o12 AS a_sum_electricity_m12_o12,
    agg_monthly_electricity.a_sum_electricity_m3 AS a_sum_electricity_m3,
    agg_monthly_electricity.a_sum_electricity_m3_o12 AS a_sum_electricity_m3_o12,
    COALESCE(agg_monthly_social_insurance.a_count_headcount_m12, 0) AS a_count_headcount_m12,
    COALESCE(agg_monthly_social_insurance.a_count_headcount_m12_o12, 0) AS a_count_headcount_m12_o12,
    COALESCE(agg_monthly_social_insurance.a_count_headcount_m6, 0) AS a_count_headcount_m6,
    agg_monthly_social_insurance.a_latest_headcount_m3 AS a_latest_headcount_m3,
    agg_monthly_social_insurance.a_max_headcount_m12 AS a_max_headcount_m12,
    agg_monthly_social_insurance.a_min_headcount_m12 AS a_min_headcount_m12,
    agg_monthly_social_insurance.a_sum_headcount_m1 AS a_sum_headcount_m1,
    agg_monthly_social_insurance.a_sum_headcount_m12 AS a_sum_headcount_m12,
    agg_monthly_social_insurance.a_sum_headcount_m12_o12 AS a_sum_headcount_m12_o12,
    agg_monthly_social_insurance.a_sum_headcount_m1_o1 AS a_sum_headcount_m1_o1,
    agg_monthly_social_insurance.a_sum_headcount_m1_o3 AS a_sum_headcount_m1_o3,
    agg_monthly_social_insurance.a_sum_headcount_m3 AS a_sum_headcount_m3,
    agg_monthly_social_insurance.a_sum_headcount_m3_o12 AS a_sum_headcount_m3_o12,
    COALESCE(agg_monthly_tax.a_count_revenue_m12, 0) AS a_count_revenue_m12,
    COALESCE(agg_monthly_tax.a_count_revenue_m12_598e90, 0) AS a_count_revenue_m12_598e90,
    COALESCE(agg_monthly_tax.a_count_revenue_m12_o12, 0) AS a_count_revenue_m12_o12,
    COALESCE(agg_monthly_tax.a_count_revenue_m6, 0) AS a_count_revenue_m6,
    COALESCE(agg_monthly_tax.a_count_revenue_m6_ee8a26, 0) AS a_count_revenue_m6_ee8a26,
    COALESCE(agg_monthly_tax.a_count_tax_m12, 0) AS a_count_tax_m12,
    COALESCE(agg_monthly_tax.a_count_tax_m12_o12, 0) AS a_count_tax_m12_o12,
    COALESCE(agg_monthly_tax.a_count_tax_m6, 0) AS a_count_tax_m6,
    agg_monthly_tax.a_sum_revenue_m12 AS a_sum_revenue_m12,
    agg_monthly_tax.a_sum_revenue_m12_o12 AS a_sum_revenue_m12_o12,
    agg_monthly_tax.a_sum_revenue_m12_o24 AS a_sum_revenue_m12_o24,
    agg_monthly_tax.a_sum_revenue_m3 AS a_sum_revenue_m3,
    agg_monthly_tax.a_sum_revenue_m3_o12 AS a_sum_revenue_m3_o12,
    agg_monthly_tax.a_sum_tax_m12 AS a_sum_tax_m12,
    agg_monthly_tax.a_sum_tax_m12_o12 AS a_sum_tax_m12_o12,
    agg_monthly_tax.a_sum_tax_m3 AS a_sum_tax_m3,
    agg_monthly_tax.a_sum_tax_m3_o12 AS a_sum_tax_m3_o12,
    COALESCE(agg_penalties.a_count_penalties_m12, 0) AS a_count_penalties_m12,
    COALESCE(agg_penalties.a_count_penalties_m24, 0) AS a_count_penalties_m24,
    agg_penalties.a_max_penalties_fine_m24 AS a_max_penalties_fine_m24,
    COALESCE(agg_penalties.a_sum_penalties_fine_m24, 0) AS a_sum_penalties_fine_m24,
    COALESCE(agg_survey_list.a_count_survey_list, 0) AS a_count_survey_list,
    COALESCE(agg_survey_list.a_count_survey_list_0fa264, 0) AS a_count_survey_list_0fa264,
    COALESCE(agg_survey_list.a_count_survey_list_110c21, 0) AS a_count_survey_list_110c21,
    COALESCE(agg_survey_list.a_count_survey_list_16631a, 0) AS a_count_survey_list_16631a,
    COALESCE(agg_survey_list.a_count_survey_list_340cd6, 0) AS a_count_survey_list_340cd6,
    COALESCE(agg_survey_list.a_count_survey_list_4fc173, 0) AS a_count_survey_list_4fc173,
    COALESCE(agg_survey_list.a_count_survey_list_5c5f4f, 0) AS a_count_survey_list_5c5f4f,
    COALESCE(agg_survey_list.a_count_survey_list_7cfbe7, 0) AS a_count_survey_list_7cfbe7,
    COALESCE(agg_survey_list.a_count_survey_list_99d8ad, 0) AS a_count_survey_list_99d8ad,
    COALESCE(agg_survey_list.a_count_survey_list_dbaaff, 0) AS a_count_survey_list_dbaaff,
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
    ref.grp AS ref_grp,
    ref.rev_large AS ref_rev_large,
    ref.rev_medium AS ref_rev_medium,
    ref.rev_small AS ref_rev_small,
    ref.scope_name AS ref_scope_name,
    ref.scope_threshold_fen AS ref_scope_threshold_fen,
    ref.section AS ref_section,
    ref.size_sector AS ref_size_sector
  FROM ent
  LEFT JOIN agg_abnormal_operations
    ON agg_abnormal_operations.uscc = ent.uscc
  LEFT JOIN agg_certifications
    ON agg_certifications.uscc = ent.uscc
  LEFT JOIN agg_dishonesty_list
    ON agg_dishonesty_list.uscc = ent.uscc
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
    agg_monthly_tax.a_sum_revenue_m12 AS a_sum_revenue_m12,
    agg_monthly_tax.a_sum_tax_m12 AS a_sum_tax_m12
  FROM ent
  LEFT JOIN agg_monthly_tax
    ON agg_monthly_tax.uscc = ent.uscc
), rank_inputs AS (
  SELECT
    uscc,
    a_sum_tax_m12 AS v0,
    e_town_code AS k0_0,
    a_sum_tax_m12 AS v1,
    a_sum_revenue_m12 AS v2
  FROM rank_base
), ranks AS (
  SELECT
    uscc,
    CASE
      WHEN v0 IS NULL
      THEN NULL
      ELSE RANK() OVER (PARTITION BY k0_0 ORDER BY v0 DESC)
    END AS r_51803402,
    CASE WHEN v1 IS NULL THEN NULL ELSE RANK() OVER (ORDER BY v1 DESC) END AS r_c84606cb,
    CASE WHEN v2 IS NULL THEN NULL ELSE RANK() OVER (ORDER BY v2 DESC) END AS r_d7e6a382
  FROM rank_inputs
), ranked AS (
  SELECT
    base.*,
    ranks.r_51803402,
    ranks.r_c84606cb,
    ranks.r_d7e6a382
  FROM base
  JOIN ranks
    ON ranks.uscc = base.uscc
), layer_0 AS (
  SELECT
    *,
    a_sum_revenue_m12 >= 1000000000 AS s_0bad8561ed,
    a_count_survey_list_99d8ad > 0 AS s_0dd43c2b59,
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
    END AS s_1a6af576f8,
    a_count_certifications_active_c33716 > 0 AS s_1e077c954f,
    a_count_dishonesty_list_active > 0 AS s_2c051b397c,
    a_count_tax_m12 >= 4 AS s_2c73f892db,
    CASE
      WHEN (
        ABS(y_rd_expense_fen) < 184467440737095516
      )
      AND (
        ABS(y_revenue_fen) < 184467440737095516
      )
      THEN CASE
        WHEN y_revenue_fen > 0
        THEN (
          y_rd_expense_fen * 25
        ) >= y_revenue_fen
        WHEN y_revenue_fen < 0
        THEN (
          y_rd_expense_fen * 25
        ) <= y_revenue_fen
      END
      ELSE CASE
        WHEN (
          CAST(y_revenue_fen AS DECIMAL(38, 0)) <> 0
        )
        AND (
          CAST(y_revenue_fen AS DECIMAL(38, 0)) > 0
        )
        THEN CAST(y_rd_expense_fen AS DECIMAL(38, 0)) >= (
          0.04 * CAST(y_revenue_fen AS DECIMAL(38, 0))
        )
        WHEN (
          CAST(y_revenue_fen AS DECIMAL(38, 0)) <> 0
        )
        AND (
          CAST(y_revenue_fen AS DECIMAL(38, 0)) < 0
        )
        THEN CAST(y_rd_expense_fen AS DECIMAL(38, 0)) <= (
          0.04 * CAST(y_revenue_fen AS DECIMAL(38, 0))
        )
      END
    END AS s_2cf23357df,
    CASE
      WHEN (
        ABS(y_rd_expense_fen) < 230584300921369395
      )
      AND (
        ABS(y_revenue_fen) < 230584300921369395
      )
      THEN CASE
        WHEN y_revenue_fen > 0
        THEN (
          y_rd_expense_fen * 20
        ) >= y_revenue_fen
        WHEN y_revenue_fen < 0
        THEN (
          y_rd_expense_fen * 20
        ) <= y_revenue_fen
      END
      ELSE CASE
        WHEN (
          CAST(y_revenue_fen AS DECIMAL(38, 0)) <> 0
        )
        AND (
          CAST(y_revenue_fen AS DECIMAL(38, 0)) > 0
        )
        THEN CAST(y_rd_expense_fen AS DECIMAL(38, 0)) >= (
          0.05 * CAST(y_revenue_fen AS DECIMAL(38, 0))
        )
        WHEN (
          CAST(y_revenue_fen AS DECIMAL(38, 0)) <> 0
        )
        AND (
          CAST(y_revenue_fen AS DECIMAL(38, 0)) < 0
        )
        THEN CAST(y_rd_expense_fen AS DECIMAL(38, 0)) <= (
          0.05 * CAST(y_revenue_fen AS DECIMAL(38, 0))
        )
      END
    END AS s_37915362d2,
    (
      2026 - YEAR(e_established_on) - CASE
        WHEN MONTH(e_established_on) * 100 + DAY(e_established_on) > 1031
        THEN 1
        ELSE 0
      END
    ) < 3 AS s_3d872c9b08,
    CASE
      WHEN (
        NOT ref_scope_threshold_fen IS NULL
      )
      AND (
        y_revenue_fen >= ref_scope_threshold_fen
      )
      THEN ref_scope_name
    END AS s_43d560104f,
    a_count_ip_rights_e4e516 > 0 AS s_455c696cbe,
    a_count_tax_m12 = a_count_tax_m12_o12 AS s_485a08b62a,
    a_sum_revenue_m12 >= (
      0.8 * CAST(ref_scope_threshold_fen AS DECIMAL(38, 0))
    ) AS s_4fbf777666,
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
    END AS s_52ff12c157,
    a_sum_revenue_m12 > 0 AS s_5478425ae3,
    y_revenue_fen <= 5000000000 AS s_76f22a6c3d,
    CASE
      WHEN (
        ABS(a_sum_revenue_m12) < 4611686018427387903
      )
      AND (
        ABS(a_sum_revenue_m12_o12) < 4611686018427387903
      )
      THEN CASE
        WHEN a_sum_revenue_m12_o12 > 0
        THEN (
          a_sum_revenue_m12 - a_sum_revenue_m12_o12
        ) > (
          0 * a_sum_revenue_m12_o12
        )
      END
      ELSE CASE
        WHEN (
          a_sum_revenue_m12_o12 > 0
        )
        THEN (
          CAST(a_sum_revenue_m12 AS DECIMAL(38, 0)) - CAST(a_sum_revenue_m12_o12 AS DECIMAL(38, 0))
        ) > (
          0 * CAST(a_sum_revenue_m12_o12 AS DECIMAL(38, 0))
        )
      END
    END AS s_84cdeedfa4,
    a_sum_revenue_m12 >= 10000000000 AS s_868c520863,
    a_sum_tax_m12 > 0 AS s_86a415ec84,
    a_count_headcount_m12 = a_count_headcount_m12_o12 AS s_8bc726249d,
    a_sum_revenue_m12 < ref_scope_threshold_fen AS s_9019a70a1b,
    (
      ref_division IN ('39', '63', '64', '65')
    )
    OR (
      e_industry_code IN ('3474', '3824', '3832', '3833', '5193', '5292', '7251', '8730')
    ) AS s_94c384b007,
    a_count_survey_list > 0 AS s_95137101ff,
    CASE
      WHEN (
        a_sum_electricity_m3_o12 > 0
      )
      THEN (
        a_sum_electricity_m3 - a_sum_electricity_m3_o12
      ) <= (
        (
          -0.5
        ) * a_sum_electricity_m3_o12
      )
    END AS s_956a226af2,
    y_revenue_fen > 20000000000 AS s_ab86c480f7,
    a_count_survey_list_5c5f4f > 0 AS s_af533e71f9,
    ref_section IN ('C') AS s_b4c8053516,
    a_count_revenue_m12 = a_count_revenue_m12_o12 AS s_bab7dc593c,
    a_count_abnormal_operations_active > 0 AS s_bb27b420bc,
    a_count_certifications_active_85f7d5 > 0 AS s_bcf431dd3f,
    a_count_certifications_active_6feaaf > 0 AS s_c00bb23c67,
    a_count_survey_list_0fa264 > 0 AS s_c0eefa465c,
    y_revenue_fen > 5000000000 AS s_c28b74bf55,
    CASE
      WHEN (
        ABS(a_sum_revenue_m12) < 461168601842738790
      )
      AND (
        ABS(a_sum_revenue_m12_o12) < 461168601842738790
      )
      THEN CASE
        WHEN a_sum_revenue_m12_o12 > 0
        THEN (
          (
            a_sum_revenue_m12 - a_sum_revenue_m12_o12
          ) * 10
        ) >= a_sum_revenue_m12_o12
      END
      ELSE CASE
        WHEN (
          a_sum_revenue_m12_o12 > 0
        )
        THEN (
          CAST(a_sum_revenue_m12 AS DECIMAL(38, 0)) - CAST(a_sum_revenue_m12_o12 AS DECIMAL(38, 0))
        ) >= (
          0.1 * CAST(a_sum_revenue_m12_o12 AS DECIMAL(38, 0))
        )
      END
    END AS s_c5ee96985d,
    a_count_certifications_active_0cae6e > 0 AS s_ca786faabb,
    y_rd_expense_fen > 0 AS s_cec418b61a,
    a_count_survey_list_dbaaff > 0 AS s_d0162a2ccb,
    CASE
      WHEN (
        ABS(a_sum_headcount_m3) < 461168601842738790
      )
      AND (
        ABS(a_sum_headcount_m3_o12) < 461168601842738790
      )
      THEN CASE
        WHEN a_sum_headcount_m3_o12 > 0
        THEN (
          (
            a_sum_headcount_m3 - a_sum_headcount_m3_o12
          ) * 10
        ) <= (
          -3 * a_sum_headcount_m3_o12
        )
      END
      ELSE CASE
        WHEN (
          a_sum_headcount_m3_o12 > 0
        )
        THEN (
          CAST(a_sum_headcount_m3 AS DECIMAL(38, 0)) - CAST(a_sum_headcount_m3_o12 AS DECIMAL(38, 0))
        ) <= (
          (
            -0.3
          ) * CAST(a_sum_headcount_m3_o12 AS DECIMAL(38, 0))
        )
      END
    END AS s_d1ed218433,
    a_count_revenue_m12 >= 4 AS s_d37de449b2,
    a_count_financing > 0 AS s_d6e2028b95,
    a_count_survey_list_110c21 > 0 AS s_df38df26aa,
    a_count_certifications_active_946835 > 0 AS s_e17599f026,
    (
      2026 - YEAR(e_established_on) - CASE
        WHEN MONTH(e_established_on) * 100 + DAY(e_established_on) > 1031
        THEN 1
        ELSE 0
      END
    ) >= 1 AS s_e363c908f6,
    a_count_electricity_m12 = a_count_electricity_m12_o12 AS s_e3e51590fb,
    y_revenue_fen <= 20000000000 AS s_e44279fb9e,
    a_count_headcount_m12 >= 4 AS s_e4e63568e6,
    a_count_electricity_m12 >= 4 AS s_ec27fdae17,
    ref_scope_name AS s_ec946bb662,
    CASE
      WHEN (
        ABS(a_sum_revenue_m3) < 2305843009213693951
      )
      AND (
        ABS(a_sum_revenue_m3_o12) < 2305843009213693951
      )
      THEN CASE
        WHEN a_sum_revenue_m3_o12 > 0
        THEN (
          (
            a_sum_revenue_m3 - a_sum_revenue_m3_o12
          ) * 2
        ) <= (
          -1 * a_sum_revenue_m3_o12
        )
      END
      ELSE CASE
        WHEN (
          a_sum_revenue_m3_o12 > 0
        )
        THEN (
          CAST(a_sum_revenue_m3 AS DECIMAL(38, 0)) - CAST(a_sum_revenue_m3_o12 AS DECIMAL(38, 0))
        ) <= (
          (
            -0.5
          ) * CAST(a_sum_revenue_m3_o12 AS DECIMAL(38, 0))
        )
      END
    END AS s_efe02fb4c7,
    e_status = 'active' AS s_f76c65360d
  FROM ranked
), layer_1 AS (
  SELECT
    *,
    s_d37de449b2 AND s_bab7dc593c AS s_017509d0d2,
    NOT s_ca786faabb AS s_14ae8f7aed,
    s_ec946bb662 = '规模以上工业' AS s_15e6db9713,
    NOT s_af533e71f9 AS s_1a69ecd3db,
    NOT s_d0162a2ccb AS s_1aa05f0422,
    NOT s_df38df26aa AS s_327a221dd5,
    s_76f22a6c3d AND s_37915362d2 AS s_420c3ebe7c,
    NOT s_c0eefa465c AS s_560baeb76e,
    s_e17599f026 OR s_c00bb23c67 AS s_59ec2e6aea,
    s_ec946bb662 = '限额以上批发业' AS s_66f2eaafc0,
    s_c28b74bf55 AND s_e44279fb9e AND s_2cf23357df AS s_6e50b26c90,
    s_2c73f892db AND s_485a08b62a AS s_739df7ba52,
    s_ec946bb662 = '规模以上服务业' AS s_7ab1ed85b7,
    s_e4e63568e6 AND s_8bc726249d AS s_7bf81b97e8,
    s_ab86c480f7 AND s_52ff12c157 AS s_8713266fab,
    s_ec27fdae17 AND s_e3e51590fb AS s_8fae905943,
    s_ec946bb662 IN ('限额以上住宿业', '限额以上餐饮业') AS s_a99b16887b,
    s_ec946bb662 = '限额以上零售业' AS s_dff8b8b019,
    s_1a6af576f8 IN ('medium', 'small', 'micro') AS s_e01dc17ada,
    NOT s_0dd43c2b59 AS s_f18462b90b
  FROM layer_0
), layer_2 AS (
  SELECT
    *,
    s_a99b16887b AND s_327a221dd5 AND s_4fbf777666 AND s_9019a70a1b AND s_84cdeedfa4 AS s_25c3a92526,
    s_7ab1ed85b7 AND s_f18462b90b AND s_4fbf777666 AND s_9019a70a1b AND s_84cdeedfa4 AS s_7f5fd89b05,
    s_dff8b8b019 AND s_1aa05f0422 AND s_4fbf777666 AND s_9019a70a1b AND s_84cdeedfa4 AS s_87c66699db,
    s_15e6db9713 AND s_560baeb76e AND s_4fbf777666 AND s_9019a70a1b AND s_84cdeedfa4 AS s_8d62ebd6fd,
    s_420c3ebe7c OR s_6e50b26c90 OR s_8713266fab AS s_a226980c2a,
    s_66f2eaafc0 AND s_1a69ecd3db AND s_4fbf777666 AND s_9019a70a1b AND s_84cdeedfa4 AS s_d0abe2e39f
  FROM layer_1
)
SELECT
  uscc,
  town,
  a_count_abnormal_operations,
  a_count_abnormal_operations_active,
  a_count_abnormal_operations_m12,
  a_count_certifications_55bdf5,
  a_count_certifications_active,
  a_count_certifications_active_0cae6e,
  a_count_certifications_active_6feaaf,
  a_count_certifications_active_85f7d5,
  a_count_certifications_active_946835,
  a_count_certifications_active_c33716,
  a_count_certifications_active_e51147,
  a_count_certifications_m12_140371,
  a_count_dishonesty_list,
  a_count_dishonesty_list_active,
  a_count_dishonesty_list_m12,
  a_count_electricity_m12,
  a_count_electricity_m12_o12,
  a_count_financing,
  a_count_financing_0603f5,
  a_count_financing_1fd11b,
  a_count_financing_3c6652,
  a_count_financing_8c95bd,
  a_count_financing_8cb79d,
  a_count_financing_952640,
  a_count_financing_a76ad6,
  a_count_financing_f184c8,
  a_count_financing_f277fa,
  a_count_financing_m12,
  a_count_financing_m24,
  a_count_headcount_m12,
  a_count_headcount_m12_o12,
  a_count_headcount_m6,
  a_count_ip_rights,
  a_count_ip_rights_667be5,
  a_count_ip_rights_88c606,
  a_count_ip_rights_b6cdf0,
  a_count_ip_rights_e4e516,
  a_count_ip_rights_m12_30b03f,
  a_count_ip_rights_m12_675608,
  a_count_penalties_m12,
  a_count_penalties_m24,
  a_count_revenue_m12,
  a_count_revenue_m12_598e90,
  a_count_revenue_m12_o12,
  a_count_revenue_m6,
  a_count_revenue_m6_ee8a26,
  a_count_survey_list,
  a_count_survey_list_0fa264,
  a_count_survey_list_110c21,
  a_count_survey_list_16631a,
  a_count_survey_list_340cd6,
  a_count_survey_list_4fc173,
  a_count_survey_list_5c5f4f,
  a_count_survey_list_7cfbe7,
  a_count_survey_list_99d8ad,
  a_count_survey_list_dbaaff,
  a_count_tax_m12,
  a_count_tax_m12_o12,
  a_count_tax_m6,
  a_latest_headcount_m3,
  a_max_financing_amount,
  a_max_headcount_m12,
  a_max_penalties_fine_m24,
  a_min_headcount_m12,
  a_sum_electricity_m12,
  a_sum_electricity_m12_o12,
  a_sum_electricity_m3,
  a_sum_electricity_m3_o12,
  a_sum_financing_amount,
  a_sum_headcount_m1,
  a_sum_headcount_m12,
  a_sum_headcount_m12_o12,
  a_sum_headcount_m1_o1,
  a_sum_headcount_m1_o3,
  a_sum_headcount_m3,
  a_sum_headcount_m3_o12,
  a_sum_penalties_fine_m24,
  a_sum_revenue_m12,
  a_sum_revenue_m12_o12,
  a_sum_revenue_m12_o24,
  a_sum_revenue_m3,
  a_sum_revenue_m3_o12,
  a_sum_tax_m12,
  a_sum_tax_m12_o12,
  a_sum_tax_m3,
  a_sum_tax_m3_o12,
  e_established_on,
  e_industry_code,
  e_legal_form,
  e_registered_capital_fen,
  e_status,
  e_town_code,
  r_51803402,
  r_c84606cb,
  r_d7e6a382,
  y_assets_fen,
  y_employees,
  y_rd_expense_fen,
  y_revenue_fen,
  (
    2026 - YEAR(e_established_on) - CASE
      WHEN MONTH(e_established_on) * 100 + DAY(e_established_on) > 1031
      THEN 1
      ELSE 0
    END
  ) >= 10 AS t_age__10_plus,
  s_e363c908f6 AND s_3d872c9b08 AS t_age__1_3,
  (
    2026 - YEAR(e_established_on) - CASE
      WHEN MONTH(e_established_on) * 100 + DAY(e_established_on) > 1031
      THEN 1
      ELSE 0
    END
  ) >= 20 AS t_age__20_plus,
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
      2026 - YEAR(e_established_on) - CASE
        WHEN MONTH(e_established_on) * 100 + DAY(e_established_on) > 1031
        THEN 1
        ELSE 0
      END
    ) < 5
  ) AS t_age__3_5,
  (
    (
      2026 - YEAR(e_established_on) - CASE
        WHEN MONTH(e_established_on) * 100 + DAY(e_established_on) > 1031
        THEN 1
        ELSE 0
      END
    ) >= 5
  )
  AND (
    (
      2026 - YEAR(e_established_on) - CASE
        WHEN MONTH(e_established_on) * 100 + DAY(e_established_on) > 1031
        THEN 1
        ELSE 0
      END
    ) < 10
  ) AS t_age__5_10,
  s_3d872c9b08 AND s_d6e2028b95 AS t_age__startup_financed,
  (
    2026 - YEAR(e_established_on) - CASE
      WHEN MONTH(e_established_on) * 100 + DAY(e_established_on) > 1031
      THEN 1
      ELSE 0
    END
  ) < 1 AS t_age__under_1,
  s_f76c65360d AS t_basic__active,
  e_registered_capital_fen >= 10000000000 AS t_basic__capital_100m_plus,
  (
    e_registered_capital_fen >= 1000000000
  )
  AND (
    e_registered_capital_fen < 5000000000
  ) AS t_basic__capital_10m_50m,
  (
    e_registered_capital_fen >= 100000000
  )
  AND (
    e_registered_capital_fen < 500000000
  ) AS t_basic__capital_1m_5m,
  (
    e_registered_capital_fen >= 5000000000
  )
  AND (
    e_registered_capital_fen < 10000000000
  ) AS t_basic__capital_50m_100m,
  (
    e_registered_capital_fen >= 500000000
  )
  AND (
    e_registered_capital_fen < 1000000000
  ) AS t_basic__capital_5m_10m,
  e_registered_capital_fen < 100000000 AS t_basic__capital_under_1m,
  e_status = 'deregistered' AS t_basic__deregistered,
  (
    STRPOS(e_legal_form, '外国') > 0
  )
  OR (
    STRPOS(e_legal_form, '外商') > 0
  )
  OR (
    STRPOS(e_legal_form, '台港澳') > 0
  ) AS t_basic__foreign_invested,
  STRPOS(e_legal_form, '股份有限公司') > 0 AS t_basic__joint_stock,
  STRPOS(e_legal_form, '有限责任公司') > 0 AS t_basic__limited_liability,
  STRPOS(e_legal_form, '（上市') > 0 AS t_basic__listed,
  e_status = 'moved_out' AS t_basic__moved_out,
  STRPOS(e_legal_form, '自然人独资') > 0 AS t_basic__natural_person_sole,
  STRPOS(e_legal_form, '合伙企业') > 0 AS t_basic__partnership,
  STRPOS(e_legal_form, '个人独资企业') > 0 AS t_basic__sole_proprietorship,
  (
    ref_division IN ('27')
  )
  OR (
    ref_grp IN ('358')
  )
  OR (
    e_industry_code IN ('3544', '5151', '5152', '5154', '7340')
  ) AS t_chain__biomedicine,
  (
    ref_division IN ('86', '87', '88')
  )
  OR (
    ref_grp IN ('725')
  )
  OR (
    e_industry_code IN ('6572', '6579')
  ) AS t_chain__culture_creative,
  s_94c384b007 AS t_chain__digital_economy_core,
  s_94c384b007 AND s_b4c8053516 AND (
    a_sum_revenue_m12 >= 2000000000
  ) AS t_chain__digital_manufacturing_leader,
  e_industry_code IN ('5193', '5292', '5293', '6431', '6432') AS t_chain__ecommerce,
  e_industry_code IN ('3562', '3972', '3973', '3985', '6520') AS t_chain__integrated_circuits,
  (
    ref_division IN ('40')
  )
  OR (
    ref_grp IN ('342', '356', '396')
  )
  OR (
    e_industry_code IN ('3491', '3492', '3493', '3914', '3983')
  ) AS t_chain__intelligent_manufacturing,
  (
    ref_division IN ('54', '58', '59', '60')
  )
  OR (
    e_industry_code IN ('7224')
  ) AS t_chain__modern_logistics,
  e_industry_code IN ('3415', '3612', '3825', '3841', '3862') AS t_chain__new_energy,
  ref_division IN ('73', '74', '75') AS t_chain__science_services,
  (
    ref_division IN ('65')
  )
  OR (
    e_industry_code IN ('6421', '6429', '6440', '6450', '6490')
  ) AS t_chain__software_it,
  s_84cdeedfa4
  AND CASE
    WHEN (
      ABS(a_sum_tax_m12) < 4611686018427387903
    )
    AND (
      ABS(a_sum_tax_m12_o12) < 4611686018427387903
    )
    THEN CASE
      WHEN a_sum_tax_m12_o12 > 0
      THEN (
        a_sum_tax_m12 - a_sum_tax_m12_o12
      ) > (
        0 * a_sum_tax_m12_o12
      )
    END
    ELSE CASE
      WHEN (
        a_sum_tax_m12_o12 > 0
      )
      THEN (
        CAST(a_sum_tax_m12 AS DECIMAL(38, 0)) - CAST(a_sum_tax_m12_o12 AS DECIMAL(38, 0))
      ) > (
        0 * CAST(a_sum_tax_m12_o12 AS DECIMAL(38, 0))
      )
    END
  END
  AND CASE
    WHEN (
      ABS(a_sum_headcount_m12) < 4611686018427387903
    )
    AND (
      ABS(a_sum_headcount_m12_o12) < 4611686018427387903
    )
    THEN CASE
      WHEN a_sum_headcount_m12_o12 > 0
      THEN (
        a_sum_headcount_m12 - a_sum_headcount_m12_o12
      ) > (
        0 * a_sum_headcount_m12_o12
      )
    END
    ELSE CASE
      WHEN (
        a_sum_headcount_m12_o12 > 0
      )
      THEN (
        CAST(a_sum_headcount_m12 AS DECIMAL(38, 0)) - CAST(a_sum_headcount_m12_o12 AS DECIMAL(38, 0))
      ) > (
        0 * CAST(a_sum_headcount_m12_o12 AS DECIMAL(38, 0))
      )
    END
  END AS t_dynamics__all_growing,
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
  END AS t_dynamics__avg_headcount_100_plus,
  a_sum_electricity_m12 >= 1000000 AS t_dynamics__electricity_1m_kwh,
  s_8fae905943 AS t_dynamics__electricity_comparable,
  s_8fae905943
  AND CASE
    WHEN (
      a_sum_electricity_m12_o12 > 0
    )
    THEN (
      a_sum_electricity_m12 - a_sum_electricity_m12_o12
    ) < (
      0 * a_sum_electricity_m12_o12
    )
  END
  AND CASE
    WHEN (
      a_sum_electricity_m12_o12 > 0
    )
    THEN (
      a_sum_electricity_m12 - a_sum_electricity_m12_o12
    ) > (
      (
        -0.2
      ) * a_sum_electricity_m12_o12
    )
  END AS t_dynamics__electricity_decline_0_20,
  s_8fae905943
  AND CASE
    WHEN (
      a_sum_electricity_m12_o12 > 0
    )
    THEN (
      a_sum_electricity_m12 - a_sum_electricity_m12_o12
    ) <= (
      (
        -0.2
      ) * a_sum_electricity_m12_o12
    )
  END AS t_dynamics__electricity_decline_20_plus,
  s_8fae905943
  AND CASE
    WHEN (
      a_sum_electricity_m12_o12 > 0
    )
    THEN (
      a_sum_electricity_m12 - a_sum_electricity_m12_o12
    ) >= (
      0 * a_sum_electricity_m12_o12
    )
  END
  AND CASE
    WHEN (
      a_sum_electricity_m12_o12 > 0
    )
    THEN (
      a_sum_electricity_m12 - a_sum_electricity_m12_o12
    ) < (
      0.2 * a_sum_electricity_m12_o12
    )
  END AS t_dynamics__electricity_growth_0_20,
  s_8fae905943
  AND CASE
    WHEN (
      a_sum_electricity_m12_o12 > 0
    )
    THEN (
      a_sum_electricity_m12 - a_sum_electricity_m12_o12
    ) >= (
      0.2 * a_sum_electricity_m12_o12
    )
  END AS t_dynamics__electricity_growth_20_plus,
  s_7bf81b97e8 AS t_dynamics__headcount_comparable,
  s_7bf81b97e8
  AND CASE
    WHEN (
      ABS(a_sum_headcount_m12) < 4611686018427387903
    )
    AND (
      ABS(a_sum_headcount_m12_o12) < 4611686018427387903
    )
    THEN CASE
      WHEN a_sum_headcount_m12_o12 > 0
      THEN (
        a_sum_headcount_m12 - a_sum_headcount_m12_o12
      ) < (
        0 * a_sum_headcount_m12_o12
      )
    END
    ELSE CASE
      WHEN (
        a_sum_headcount_m12_o12 > 0
      )
      THEN (
        CAST(a_sum_headcount_m12 AS DECIMAL(38, 0)) - CAST(a_sum_headcount_m12_o12 AS DECIMAL(38, 0))
      ) < (
        0 * CAST(a_sum_headcount_m12_o12 AS DECIMAL(38, 0))
      )
    END
  END
  AND CASE
    WHEN (
      ABS(a_sum_headcount_m12) < 922337203685477580
    )
    AND (
      ABS(a_sum_headcount_m12_o12) < 922337203685477580
    )
    THEN CASE
      WHEN a_sum_headcount_m12_o12 > 0
      THEN (
        (
          a_sum_headcount_m12 - a_sum_headcount_m12_o12
        ) * 5
      ) > (
        -1 * a_sum_headcount_m12_o12
      )
    END
    ELSE CASE
      WHEN (
        a_sum_headcount_m12_o12 > 0
      )
      THEN (
        CAST(a_sum_headcount_m12 AS DECIMAL(38, 0)) - CAST(a_sum_headcount_m12_o12 AS DECIMAL(38, 0))
      ) > (
        (
          -0.2
        ) * CAST(a_sum_headcount_m12_o12 AS DECIMAL(38, 0))
      )
    END
  END AS t_dynamics__headcount_decline_0_20,
  s_7bf81b97e8
  AND CASE
    WHEN (
      ABS(a_sum_headcount_m12) < 922337203685477580
    )
    AND (
      ABS(a_sum_headcount_m12_o12) < 922337203685477580
    )
    THEN CASE
      WHEN a_sum_headcount_m12_o12 > 0
      THEN (
        (
          a_sum_headcount_m12 - a_sum_headcount_m12_o12
        ) * 5
      ) <= (
        -1 * a_sum_headcount_m12_o12
      )
    END
    ELSE CASE
      WHEN (
        a_sum_headcount_m12_o12 > 0
      )
      THEN (
        CAST(a_sum_headcount_m12 AS DECIMAL(38, 0)) - CAST(a_sum_headcount_m12_o12 AS DECIMAL(38, 0))
      ) <= (
        (
          -0.2
        ) * CAST(a_sum_headcount_m12_o12 AS DECIMAL(38, 0))
      )
    END
  END AS t_dynamics__headcount_decline_20_plus,
  s_7bf81b97e8
  AND CASE
    WHEN (
      ABS(a_sum_headcount_m12) < 4611686018427387903
    )
    AND (
      ABS(a_sum_headcount_m12_o12) < 4611686018427387903
    )
    THEN CASE
      WHEN a_sum_headcount_m12_o12 > 0
      THEN (
        a_sum_headcount_m12 - a_sum_headcount_m12_o12
      ) >= (
        0 * a_sum_headcount_m12_o12
      )
    END
    ELSE CASE
      WHEN (
        a_sum_headcount_m12_o12 > 0
      )
      THEN (
        CAST(a_sum_headcount_m12 AS DECIMAL(38, 0)) - CAST(a_sum_headcount_m12_o12 AS DECIMAL(38, 0))
      ) >= (
        0 * CAST(a_sum_headcount_m12_o12 AS DECIMAL(38, 0))
      )
    END
  END
  AND CASE
    WHEN (
      ABS(a_sum_headcount_m12) < 922337203685477580
    )
    AND (
      ABS(a_sum_headcount_m12_o12) < 922337203685477580
    )
    THEN CASE
      WHEN a_sum_headcount_m12_o12 > 0
      THEN (
        (
          a_sum_headcount_m12 - a_sum_headcount_m12_o12
        ) * 5
      ) < a_sum_headcount_m12_o12
    END
    ELSE CASE
      WHEN (
        a_sum_headcount_m12_o12 > 0
      )
      THEN (
        CAST(a_sum_headcount_m12 AS DECIMAL(38, 0)) - CAST(a_sum_headcount_m12_o12 AS DECIMAL(38, 0))
      ) < (
        0.2 * CAST(a_sum_headcount_m12_o12 AS DECIMAL(38, 0))
      )
    END
  END AS t_dynamics__headcount_growth_0_20,
  s_7bf81b97e8
  AND CASE
    WHEN (
      ABS(a_sum_headcount_m12) < 922337203685477580
    )
    AND (
      ABS(a_sum_headcount_m12_o12) < 922337203685477580
    )
    THEN CASE
      WHEN a_sum_headcount_m12_o12 > 0
      THEN (
        (
          a_sum_headcount_m12 - a_sum_headcount_m12_o12
        ) * 5
      ) >= a_sum_headcount_m12_o12
    END
    ELSE CASE
      WHEN (
        a_sum_headcount_m12_o12 > 0
      )
      THEN (
        CAST(a_sum_headcount_m12 AS DECIMAL(38, 0)) - CAST(a_sum_headcount_m12_o12 AS DECIMAL(38, 0))
      ) >= (
        0.2 * CAST(a_sum_headcount_m12_o12 AS DECIMAL(38, 0))
      )
    END
  END AS t_dynamics__headcount_growth_20_plus,
  s_868c520863 AS t_dynamics__revenue_100m_plus,
  s_0bad8561ed AS t_dynamics__revenue_10m_plus,
  a_sum_revenue_m12 >= 100000000000 AS t_dynamics__revenue_1b_plus,
  s_017509d0d2 AS t_dynamics__revenue_comparable,
  s_017509d0d2
  AND CASE
    WHEN (
      ABS(a_sum_revenue_m12) < 4611686018427387903
    )
    AND (
      ABS(a_sum_revenue_m12_o12) < 4611686018427387903
    )
    THEN CASE
      WHEN a_sum_revenue_m12_o12 > 0
      THEN (
        a_sum_revenue_m12 - a_sum_revenue_m12_o12
      ) < (
        0 * a_sum_revenue_m12_o12
      )
    END
    ELSE CASE
      WHEN (
        a_sum_revenue_m12_o12 > 0
      )
      THEN (
        CAST(a_sum_revenue_m12 AS DECIMAL(38, 0)) - CAST(a_sum_revenue_m12_o12 AS DECIMAL(38, 0))
      ) < (
        0 * CAST(a_sum_revenue_m12_o12 AS DECIMAL(38, 0))
      )
    END
  END
  AND CASE
    WHEN (
      ABS(a_sum_revenue_m12) < 461168601842738790
    )
    AND (
      ABS(a_sum_revenue_m12_o12) < 461168601842738790
    )
    THEN CASE
      WHEN a_sum_revenue_m12_o12 > 0
      THEN (
        (
          a_sum_revenue_m12 - a_sum_revenue_m12_o12
        ) * 10
      ) > (
        -1 * a_sum_revenue_m12_o12
      )
    END
    ELSE CASE
      WHEN (
        a_sum_revenue_m12_o12 > 0
      )
      THEN (
        CAST(a_sum_revenue_m12 AS DECIMAL(38, 0)) - CAST(a_sum_revenue_m12_o12 AS DECIMAL(38, 0))
      ) > (
        (
          -0.1
        ) * CAST(a_sum_revenue_m12_o12 AS DECIMAL(38, 0))
      )
    END
  END AS t_dynamics__revenue_decline_0_10,
  s_017509d0d2
  AND CASE
    WHEN (
      ABS(a_sum_revenue_m12) < 461168601842738790
    )
    AND (
      ABS(a_sum_revenue_m12_o12) < 461168601842738790
    )
    THEN CASE
      WHEN a_sum_revenue_m12_o12 > 0
      THEN (
        (
          a_sum_revenue_m12 - a_sum_revenue_m12_o12
        ) * 10
      ) <= (
        -1 * a_sum_revenue_m12_o12
      )
    END
    ELSE CASE
      WHEN (
        a_sum_revenue_m12_o12 > 0
      )
      THEN (
        CAST(a_sum_revenue_m12 AS DECIMAL(38, 0)) - CAST(a_sum_revenue_m12_o12 AS DECIMAL(38, 0))
      ) <= (
        (
          -0.1
        ) * CAST(a_sum_revenue_m12_o12 AS DECIMAL(38, 0))
      )
    END
  END
  AND CASE
    WHEN (
      ABS(a_sum_revenue_m12) < 461168601842738790
    )
    AND (
      ABS(a_sum_revenue_m12_o12) < 461168601842738790
    )
    THEN CASE
      WHEN a_sum_revenue_m12_o12 > 0
      THEN (
        (
          a_sum_revenue_m12 - a_sum_revenue_m12_o12
        ) * 10
      ) > (
        -3 * a_sum_revenue_m12_o12
      )
    END
    ELSE CASE
      WHEN (
        a_sum_revenue_m12_o12 > 0
      )
      THEN (
        CAST(a_sum_revenue_m12 AS DECIMAL(38, 0)) - CAST(a_sum_revenue_m12_o12 AS DECIMAL(38, 0))
      ) > (
        (
          -0.3
        ) * CAST(a_sum_revenue_m12_o12 AS DECIMAL(38, 0))
      )
    END
  END AS t_dynamics__revenue_decline_10_30,
  s_017509d0d2
  AND CASE
    WHEN (
      ABS(a_sum_revenue_m12) < 461168601842738790
    )
    AND (
      ABS(a_sum_revenue_m12_o12) < 461168601842738790
    )
    THEN CASE
      WHEN a_sum_revenue_m12_o12 > 0
      THEN (
        (
          a_sum_revenue_m12 - a_sum_revenue_m12_o12
        ) * 10
      ) <= (
        -3 * a_sum_revenue_m12_o12
      )
    END
    ELSE CASE
      WHEN (
        a_sum_revenue_m12_o12 > 0
      )
      THEN (
        CAST(a_sum_revenue_m12 AS DECIMAL(38, 0)) - CAST(a_sum_revenue_m12_o12 AS DECIMAL(38, 0))
      ) <= (
        (
          -0.3
        ) * CAST(a_sum_revenue_m12_o12 AS DECIMAL(38, 0))
      )
    END
  END AS t_dynamics__revenue_decline_30_plus,
  (
    COALESCE(a_sum_revenue_m12_o12, 0) = 0
  ) AND s_5478425ae3 AS t_dynamics__revenue_first,
  s_017509d0d2
  AND CASE
    WHEN (
      ABS(a_sum_revenue_m12) < 4611686018427387903
    )
    AND (
      ABS(a_sum_revenue_m12_o12) < 4611686018427387903
    )
    THEN CASE
      WHEN a_sum_revenue_m12_o12 > 0
      THEN (
        a_sum_revenue_m12 - a_sum_revenue_m12_o12
      ) >= (
        0 * a_sum_revenue_m12_o12
      )
    END
    ELSE CASE
      WHEN (
        a_sum_revenue_m12_o12 > 0
      )
      THEN (
        CAST(a_sum_revenue_m12 AS DECIMAL(38, 0)) - CAST(a_sum_revenue_m12_o12 AS DECIMAL(38, 0))
      ) >= (
        0 * CAST(a_sum_revenue_m12_o12 AS DECIMAL(38, 0))
      )
    END
  END
  AND CASE
    WHEN (
      ABS(a_sum_revenue_m12) < 461168601842738790
    )
    AND (
      ABS(a_sum_revenue_m12_o12) < 461168601842738790
    )
    THEN CASE
      WHEN a_sum_revenue_m12_o12 > 0
      THEN (
        (
          a_sum_revenue_m12 - a_sum_revenue_m12_o12
        ) * 10
      ) < a_sum_revenue_m12_o12
    END
    ELSE CASE
      WHEN (
        a_sum_revenue_m12_o12 > 0
      )
      THEN (
        CAST(a_sum_revenue_m12 AS DECIMAL(38, 0)) - CAST(a_sum_revenue_m12_o12 AS DECIMAL(38, 0))
      ) < (
        0.1 * CAST(a_sum_revenue_m12_o12 AS DECIMAL(38, 0))
      )
    END
  END AS t_dynamics__revenue_growth_0_10,
  s_017509d0d2
  AND s_c5ee96985d
  AND CASE
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
      ) < a_sum_revenue_m12_o12
    END
    ELSE CASE
      WHEN (
        a_sum_revenue_m12_o12 > 0
      )
      THEN (
        CAST(a_sum_revenue_m12 AS DECIMAL(38, 0)) - CAST(a_sum_revenue_m12_o12 AS DECIMAL(38, 0))
      ) < (
        0.2 * CAST(a_sum_revenue_m12_o12 AS DECIMAL(38, 0))
      )
    END
  END AS t_dynamics__revenue_growth_10_20,
  s_017509d0d2
  AND CASE
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
  END AS t_dynamics__revenue_growth_20_50,
  s_017509d0d2
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
      ) >= a_sum_revenue_m12_o12
    END
    ELSE CASE
      WHEN (
        a_sum_revenue_m12_o12 > 0
      )
      THEN (
        CAST(a_sum_revenue_m12 AS DECIMAL(38, 0)) - CAST(a_sum_revenue_m12_o12 AS DECIMAL(38, 0))
      ) >= (
        0.5 * CAST(a_sum_revenue_m12_o12 AS DECIMAL(38, 0))
      )
    END
  END AS t_dynamics__revenue_growth_50_plus,
  s_84cdeedfa4
  AND CASE
    WHEN (
      ABS(a_sum_revenue_m12_o12) < 4611686018427387903
    )
    AND (
      ABS(a_sum_revenue_m12_o24) < 4611686018427387903
    )
    THEN CASE
      WHEN a_sum_revenue_m12_o24 > 0
      THEN (
        a_sum_revenue_m12_o12 - a_sum_revenue_m12_o24
      ) > (
        0 * a_sum_revenue_m12_o24
      )
    END
    ELSE CASE
      WHEN (
        a_sum_revenue_m12_o24 > 0
      )
      THEN (
        CAST(a_sum_revenue_m12_o12 AS DECIMAL(38, 0)) - CAST(a_sum_revenue_m12_o24 AS DECIMAL(38, 0))
      ) > (
        0 * CAST(a_sum_revenue_m12_o24 AS DECIMAL(38, 0))
      )
    END
  END AS t_dynamics__revenue_growth_two_years,
  s_5478425ae3 AND (
    r_d7e6a382 <= 100
  ) AS t_dynamics__revenue_top100,
  CAST(r_d7e6a382 AS DECIMAL(38, 6)) AS v_dynamics__revenue_top100,
  s_c5ee96985d
  AND CASE
    WHEN (
      a_sum_electricity_m12_o12 > 0
    )
    THEN (
      a_sum_electricity_m12 - a_sum_electricity_m12_o12
    ) <= (
      (
        -0.1
      ) * a_sum_electricity_m12_o12
    )
  END AS t_dynamics__revenue_up_electricity_down,
  a_sum_tax_m12 >= 10000000000 AS t_dynamics__tax_100m_plus,
  a_sum_tax_m12 >= 1000000000 AS t_dynamics__tax_10m_plus,
  a_sum_tax_m12 >= 100000000 AS t_dynamics__tax_1m_plus,
  CASE
    WHEN (
      ABS(a_sum_tax_m12) < 230584300921369395
    )
    AND (
      ABS(a_sum_revenue_m12) < 230584300921369395
    )
    THEN CASE
      WHEN a_sum_revenue_m12 > 0
      THEN (
        a_sum_tax_m12 * 20
      ) >= a_sum_revenue_m12
      WHEN a_sum_revenue_m12 < 0
      THEN (
        a_sum_tax_m12 * 20
      ) <= a_sum_revenue_m12
    END
    ELSE CASE
      WHEN (
        CAST(a_sum_revenue_m12 AS DECIMAL(38, 0)) <> 0
      )
      AND (
        CAST(a_sum_revenue_m12 AS DECIMAL(38, 0)) > 0
      )
      THEN CAST(a_sum_tax_m12 AS DECIMAL(38, 0)) >= (
        0.05 * CAST(a_sum_revenue_m12 AS DECIMAL(38, 0))
      )
      WHEN (
        CAST(a_sum_revenue_m12 AS DECIMAL(38, 0)) <> 0
      )
      AND (
        CAST(a_sum_revenue_m12 AS DECIMAL(38, 0)) < 0
      )
      THEN CAST(a_sum_tax_m12 AS DECIMAL(38, 0)) <= (
        0.05 * CAST(a_sum_revenue_m12 AS DECIMAL(38, 0))
      )
    END
  END AS t_dynamics__tax_burden_high,
  s_5478425ae3
  AND CASE
    WHEN (
      ABS(a_sum_tax_m12) < 46116860184273879
    )
    AND (
      ABS(a_sum_revenue_m12) < 46116860184273879
    )
    THEN CASE
      WHEN a_sum_revenue_m12 > 0
      THEN (
        a_sum_tax_m12 * 100
      ) < a_sum_revenue_m12
      WHEN a_sum_revenue_m12 < 0
      THEN (
        a_sum_tax_m12 * 100
      ) > a_sum_revenue_m12
    END
    ELSE CASE
      WHEN (
        CAST(a_sum_revenue_m12 AS DECIMAL(38, 0)) <> 0
      )
      AND (
        CAST(a_sum_revenue_m12 AS DECIMAL(38, 0)) > 0
      )
      THEN CAST(a_sum_tax_m12 AS DECIMAL(38, 0)) < (
        0.01 * CAST(a_sum_revenue_m12 AS DECIMAL(38, 0))
      )
      WHEN (
        CAST(a_sum_revenue_m12 AS DECIMAL(38, 0)) <> 0
      )
      AND (
        CAST(a_sum_revenue_m12 AS DECIMAL(38, 0)) < 0
      )
      THEN CAST(a_sum_tax_m12 AS DECIMAL(38, 0)) > (
        0.01 * CAST(a_sum_revenue_m12 AS DECIMAL(38, 0))
      )
    END
  END AS t_dynamics__tax_burden_low,
  s_739df7ba52 AS t_dynamics__tax_comparable,
  s_739df7ba52
  AND CASE
    WHEN (
      ABS(a_sum_tax_m12) < 4611686018427387903
    )
    AND (
      ABS(a_sum_tax_m12_o12) < 4611686018427387903
    )
    THEN CASE
      WHEN a_sum_tax_m12_o12 > 0
      THEN (
        a_sum_tax_m12 - a_sum_tax_m12_o12
      ) < (
        0 * a_sum_tax_m12_o12
      )
    END
    ELSE CASE
      WHEN (
        a_sum_tax_m12_o12 > 0
      )
      THEN (
        CAST(a_sum_tax_m12 AS DECIMAL(38, 0)) - CAST(a_sum_tax_m12_o12 AS DECIMAL(38, 0))
      ) < (
        0 * CAST(a_sum_tax_m12_o12 AS DECIMAL(38, 0))
      )
    END
  END
  AND CASE
    WHEN (
      ABS(a_sum_tax_m12) < 922337203685477580
    )
    AND (
      ABS(a_sum_tax_m12_o12) < 922337203685477580
    )
    THEN CASE
      WHEN a_sum_tax_m12_o12 > 0
      THEN (
        (
          a_sum_tax_m12 - a_sum_tax_m12_o12
        ) * 5
      ) > (
        -1 * a_sum_tax_m12_o12
      )
    END
    ELSE CASE
      WHEN (
        a_sum_tax_m12_o12 > 0
      )
      THEN (
        CAST(a_sum_tax_m12 AS DECIMAL(38, 0)) - CAST(a_sum_tax_m12_o12 AS DECIMAL(38, 0))
      ) > (
        (
          -0.2
        ) * CAST(a_sum_tax_m12_o12 AS DECIMAL(38, 0))
      )
    END
  END AS t_dynamics__tax_decline_0_20,
  s_739df7ba52
  AND CASE
    WHEN (
      ABS(a_sum_tax_m12) < 922337203685477580
    )
    AND (
      ABS(a_sum_tax_m12_o12) < 922337203685477580
    )
    THEN CASE
      WHEN a_sum_tax_m12_o12 > 0
      THEN (
        (
          a_sum_tax_m12 - a_sum_tax_m12_o12
        ) * 5
      ) <= (
        -1 * a_sum_tax_m12_o12
      )
    END
    ELSE CASE
      WHEN (
        a_sum_tax_m12_o12 > 0
      )
      THEN (
        CAST(a_sum_tax_m12 AS DECIMAL(38, 0)) - CAST(a_sum_tax_m12_o12 AS DECIMAL(38, 0))
      ) <= (
        (
          -0.2
        ) * CAST(a_sum_tax_m12_o12 AS DECIMAL(38, 0))
      )
    END
  END AS t_dynamics__tax_decline_20_plus,
  s_739df7ba52
  AND CASE
    WHEN (
      ABS(a_sum_tax_m12) < 4611686018427387903
    )
    AND (
      ABS(a_sum_tax_m12_o12) < 4611686018427387903
    )
    THEN CASE
      WHEN a_sum_tax_m12_o12 > 0
      THEN (
        a_sum_tax_m12 - a_sum_tax_m12_o12
      ) >= (
        0 * a_sum_tax_m12_o12
      )
    END
    ELSE CASE
      WHEN (
        a_sum_tax_m12_o12 > 0
      )
      THEN (
        CAST(a_sum_tax_m12 AS DECIMAL(38, 0)) - CAST(a_sum_tax_m12_o12 AS DECIMAL(38, 0))
      ) >= (
        0 * CAST(a_sum_tax_m12_o12 AS DECIMAL(38, 0))
      )
    END
  END
  AND CASE
    WHEN (
      ABS(a_sum_tax_m12) < 922337203685477580
    )
    AND (
      ABS(a_sum_tax_m12_o12) < 922337203685477580
    )
    THEN CASE
      WHEN a_sum_tax_m12_o12 > 0
      THEN (
        (
          a_sum_tax_m12 - a_sum_tax_m12_o12
        ) * 5
      ) < a_sum_tax_m12_o12
    END
    ELSE CASE
      WHEN (
        a_sum_tax_m12_o12 > 0
      )
      THEN (
        CAST(a_sum_tax_m12 AS DECIMAL(38, 0)) - CAST(a_sum_tax_m12_o12 AS DECIMAL(38, 0))
      ) < (
        0.2 * CAST(a_sum_tax_m12_o12 AS DECIMAL(38, 0))
      )
    END
  END AS t_dynamics__tax_growth_0_20,
  s_739df7ba52
  AND CASE
    WHEN (
      ABS(a_sum_tax_m12) < 922337203685477580
    )
    AND (
      ABS(a_sum_tax_m12_o12) < 922337203685477580
    )
    THEN CASE
      WHEN a_sum_tax_m12_o12 > 0
      THEN (
        (
          a_sum_tax_m12 - a_sum_tax_m12_o12
        ) * 5
      ) >= a_sum_tax_m12_o12
    END
    ELSE CASE
      WHEN (
        a_sum_tax_m12_o12 > 0
      )
      THEN (
        CAST(a_sum_tax_m12 AS DECIMAL(38, 0)) - CAST(a_sum_tax_m12_o12 AS DECIMAL(38, 0))
      ) >= (
        0.2 * CAST(a_sum_tax_m12_o12 AS DECIMAL(38, 0))
      )
    END
  END
  AND CASE
    WHEN (
      ABS(a_sum_tax_m12) < 2305843009213693951
    )
    AND (
      ABS(a_sum_tax_m12_o12) < 2305843009213693951
    )
    THEN CASE
      WHEN a_sum_tax_m12_o12 > 0
      THEN (
        (
          a_sum_tax_m12 - a_sum_tax_m12_o12
        ) * 2
      ) < a_sum_tax_m12_o12
    END
    ELSE CASE
      WHEN (
        a_sum_tax_m12_o12 > 0
      )
      THEN (
        CAST(a_sum_tax_m12 AS DECIMAL(38, 0)) - CAST(a_sum_tax_m12_o12 AS DECIMAL(38, 0))
      ) < (
        0.5 * CAST(a_sum_tax_m12_o12 AS DECIMAL(38, 0))
      )
    END
  END AS t_dynamics__tax_growth_20_50,
  s_739df7ba52
  AND CASE
    WHEN (
      ABS(a_sum_tax_m12) < 2305843009213693951
    )
    AND (
      ABS(a_sum_tax_m12_o12) < 2305843009213693951
    )
    THEN CASE
      WHEN a_sum_tax_m12_o12 > 0
      THEN (
        (
          a_sum_tax_m12 - a_sum_tax_m12_o12
        ) * 2
      ) >= a_sum_tax_m12_o12
    END
    ELSE CASE
      WHEN (
        a_sum_tax_m12_o12 > 0
      )
      THEN (
        CAST(a_sum_tax_m12 AS DECIMAL(38, 0)) - CAST(a_sum_tax_m12_o12 AS DECIMAL(38, 0))
      ) >= (
        0.5 * CAST(a_sum_tax_m12_o12 AS DECIMAL(38, 0))
      )
    END
  END AS t_dynamics__tax_growth_50_plus,
  s_86a415ec84 AND (
    r_c84606cb <= 10
  ) AS t_dynamics__tax_top10,
  CAST(r_c84606cb AS DECIMAL(38, 6)) AS v_dynamics__tax_top10,
  s_86a415ec84 AND (
    r_c84606cb <= 100
  ) AS t_dynamics__tax_top100,
  CAST(r_c84606cb AS DECIMAL(38, 6)) AS v_dynamics__tax_top100,
  s_86a415ec84 AND (
    r_51803402 <= 10
  ) AS t_dynamics__tax_top10_in_town,
  CAST(r_51803402 AS DECIMAL(38, 6)) AS v_dynamics__tax_top10_in_town,
  a_count_revenue_m12_598e90 >= 3 AS t_dynamics__zero_revenue_months_3,
  CAST(a_count_revenue_m12_598e90 AS DECIMAL(38, 6)) AS v_dynamics__zero_revenue_months_3,
  s_d6e2028b95 AS t_finance__financed,
  a_count_financing_m12 > 0 AS t_finance__financed_12m,
  a_count_financing_m24 > 0 AS t_finance__financed_24m,
  a_count_financing_f184c8 > 0 AS t_finance__growth_stage,
  (
    a_count_financing_8c95bd > 0
  ) AND (
    s_ca786faabb OR s_868c520863
  ) AS t_finance__listing_reserve,
  a_count_financing >= 3 AS t_finance__multiple_rounds,
  CAST(a_count_financing AS DECIMAL(38, 6)) AS v_finance__multiple_rounds,
  a_count_financing_f277fa > 0 AS t_finance__round_a,
  a_count_financing_8cb79d > 0 AS t_finance__round_angel,
  a_count_financing_1fd11b > 0 AS t_finance__round_b,
  a_count_financing_3c6652 > 0 AS t_finance__round_c,
  a_count_financing_a76ad6 > 0 AS t_finance__round_d_plus,
  a_count_financing_952640 > 0 AS t_finance__round_pre_ipo,
  a_count_financing_0603f5 > 0 AS t_finance__round_strategic,
  a_max_financing_amount >= 5000000000 AS t_finance__single_round_50m,
  a_sum_financing_amount >= 10000000000 AS t_finance__total_100m_plus,
  a_sum_financing_amount >= 1000000000 AS t_finance__total_10m_plus,
  ref_division IN ('13') AS t_industry__division_13,
  ref_division IN ('17') AS t_industry__division_17,
  ref_division IN ('18') AS t_industry__division_18,
  ref_division IN ('26') AS t_industry__division_26,
  ref_division IN ('27') AS t_industry__division_27,
  ref_division IN ('29') AS t_industry__division_29,
  ref_division IN ('30') AS t_industry__division_30,
  ref_division IN ('33') AS t_industry__division_33,
  ref_division IN ('34') AS t_industry__division_34,
  ref_division IN ('35') AS t_industry__division_35,
  ref_division IN ('36') AS t_industry__division_36,
  ref_division IN ('38') AS t_industry__division_38,
  ref_division IN ('39') AS t_industry__division_39,
  ref_division IN ('40') AS t_industry__division_40,
  ref_division IN ('47') AS t_industry__division_47,
  ref_division IN ('48') AS t_industry__division_48,
  ref_division IN ('50') AS t_industry__division_50,
  ref_division IN ('51') AS t_industry__division_51,
  ref_division IN ('52') AS t_industry__division_52,
  ref_division IN ('54') AS t_industry__division_54,
  ref_division IN ('59') AS t_industry__division_59,
  ref_division IN ('61') AS t_industry__division_61,
  ref_division IN ('62') AS t_industry__division_62,
  ref_division IN ('63') AS t_industry__division_63,
  ref_division IN ('64') AS t_industry__division_64,
  ref_division IN ('65') AS t_industry__division_65,
  ref_division IN ('70') AS t_industry__division_70,
  ref_division IN ('72') AS t_industry__division_72,
  ref_division IN ('73') AS t_industry__division_73,
  ref_division IN ('74') AS t_industry__division_74,
  ref_division IN ('75') AS t_industry__division_75,
  ref_section IN ('A') AS t_industry__section_a,
  ref_section IN ('B') AS t_industry__section_b,
  s_b4c8053516 AS t_industry__section_c,
  ref_section IN ('D') AS t_industry__section_d,
  ref_section IN ('E') AS t_industry__section_e,
  ref_section IN ('F') AS t_industry__section_f,
  ref_section IN ('G') AS t_industry__section_g,
  ref_section IN ('H') AS t_industry__section_h,
  ref_section IN ('I') AS t_industry__section_i,
  ref_section IN ('J') AS t_industry__section_j,
  ref_section IN ('K') AS t_industry__section_k,
  ref_section IN ('L') AS t_industry__section_l,
  ref_section IN ('M') AS t_industry__section_m,
  ref_section IN ('N') AS t_industry__section_n,
  ref_section IN ('O') AS t_industry__section_o,
  ref_section IN ('P') AS t_industry__section_p,
  ref_section IN ('Q') AS t_industry__section_q,
  ref_section IN ('R') AS t_industry__section_r,
  ref_section IN ('S') AS t_industry__section_s,
  ref_section IN ('T') AS t_industry__section_t,
  ref_section IS NULL AS t_industry__unknown_code,
  a_count_ip_rights_b6cdf0 > 0 AS t_innovation__design_patent,
  s_ca786faabb AS t_innovation__high_tech,
  s_14ae8f7aed
  AND s_e363c908f6
  AND (
    s_455c696cbe OR (
      a_count_ip_rights >= 6
    )
  )
  AND s_a226980c2a AS t_innovation__high_tech_candidate,
  a_count_certifications_active_e51147 > 0 AS t_innovation__high_tech_expiring,
  (
    a_count_certifications_55bdf5 > 0
  ) AND s_14ae8f7aed AS t_innovation__high_tech_lapsed,
  a_count_certifications_m12_140371 > 0 AS t_innovation__high_tech_new,
  s_bcf431dd3f AS t_innovation__innovative_sme,
  s_455c696cbe AS t_innovation__invention_patent,
  a_count_ip_rights_m12_30b03f > 0 AS t_innovation__invention_patent_new,
  a_count_ip_rights_e4e516 >= 20 AS t_innovation__invention_patents_20,
  CAST(a_count_ip_rights_e4e516 AS DECIMAL(38, 6)) AS v_innovation__invention_patents_20,
  a_count_ip_rights_e4e516 >= 5 AS t_innovation__invention_patents_5,
  CAST(a_count_ip_rights_e4e516 AS DECIMAL(38, 6)) AS v_innovation__invention_patents_5,
  a_count_ip_rights >= 30 AS t_innovation__ip_intensive,
  CAST(a_count_ip_rights AS DECIMAL(38, 6)) AS v_innovation__ip_intensive,
  s_c00bb23c67 AS t_innovation__little_giant,
  a_count_certifications_active >= 2 AS t_innovation__multi_certified,
  y_rd_expense_fen >= 1000000000 AS t_innovation__rd_10m_plus,
  s_cec418b61a AS t_innovation__rd_active,
  CASE
    WHEN (
      ABS(y_rd_expense_fen) < 461168601842738790
    )
    AND (
      ABS(y_revenue_fen) < 461168601842738790
    )
    THEN CASE
      WHEN y_revenue_fen > 0
      THEN (
        y_rd_expense_fen * 10
      ) >= y_revenue_fen
      WHEN y_revenue_fen < 0
      THEN (
        y_rd_expense_fen * 10
      ) <= y_revenue_fen
    END
    ELSE CASE
      WHEN (
        CAST(y_revenue_fen AS DECIMAL(38, 0)) <> 0
      )
      AND (
        CAST(y_revenue_fen AS DECIMAL(38, 0)) > 0
      )
      THEN CAST(y_rd_expense_fen AS DECIMAL(38, 0)) >= (
        0.1 * CAST(y_revenue_fen AS DECIMAL(38, 0))
      )
      WHEN (
        CAST(y_revenue_fen AS DECIMAL(38, 0)) <> 0
      )
      AND (
        CAST(y_revenue_fen AS DECIMAL(38, 0)) < 0
      )
      THEN CAST(y_rd_expense_fen AS DECIMAL(38, 0)) <= (
        0.1 * CAST(y_revenue_fen AS DECIMAL(38, 0))
      )
    END
  END AS t_innovation__rd_intensity_10_plus,
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
      ) >= y_revenue_fen
      WHEN y_revenue_fen < 0
      THEN (
        y_rd_expense_fen * 100
      ) <= y_revenue_fen
    END
    ELSE CASE
      WHEN (
        CAST(y_revenue_fen AS DECIMAL(38, 0)) <> 0
      )
      AND (
        CAST(y_revenue_fen AS DECIMAL(38, 0)) > 0
      )
      THEN CAST(y_rd_expense_fen AS DECIMAL(38, 0)) >= (
        0.01 * CAST(y_revenue_fen AS DECIMAL(38, 0))
      )
      WHEN (
        CAST(y_revenue_fen AS DECIMAL(38, 0)) <> 0
      )
      AND (
        CAST(y_revenue_fen AS DECIMAL(38, 0)) < 0
      )
      THEN CAST(y_rd_expense_fen AS DECIMAL(38, 0)) <= (
        0.01 * CAST(y_revenue_fen AS DECIMAL(38, 0))
      )
    END
  END
  AND CASE
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
      ) < (
        3 * y_revenue_fen
      )
      WHEN y_revenue_fen < 0
      THEN (
        y_rd_expense_fen * 100
      ) > (
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
      THEN CAST(y_rd_expense_fen AS DECIMAL(38, 0)) < (
        0.03 * CAST(y_revenue_fen AS DECIMAL(38, 0))
      )
      WHEN (
        CAST(y_revenue_fen AS DECIMAL(38, 0)) <> 0
      )
      AND (
        CAST(y_revenue_fen AS DECIMAL(38, 0)) < 0
      )
      THEN CAST(y_rd_expense_fen AS DECIMAL(38, 0)) > (
        0.03 * CAST(y_revenue_fen AS DECIMAL(38, 0))
      )
    END
  END AS t_innovation__rd_intensity_1_3,
  s_52ff12c157
  AND CASE
    WHEN (
      ABS(y_rd_expense_fen) < 230584300921369395
    )
    AND (
      ABS(y_revenue_fen) < 230584300921369395
    )
    THEN CASE
      WHEN y_revenue_fen > 0
      THEN (
        y_rd_expense_fen * 20
      ) < y_revenue_fen
      WHEN y_revenue_fen < 0
      THEN (
        y_rd_expense_fen * 20
      ) > y_revenue_fen
    END
    ELSE CASE
      WHEN (
        CAST(y_revenue_fen AS DECIMAL(38, 0)) <> 0
      )
      AND (
        CAST(y_revenue_fen AS DECIMAL(38, 0)) > 0
      )
      THEN CAST(y_rd_expense_fen AS DECIMAL(38, 0)) < (
        0.05 * CAST(y_revenue_fen AS DECIMAL(38, 0))
      )
      WHEN (
        CAST(y_revenue_fen AS DECIMAL(38, 0)) <> 0
      )
      AND (
        CAST(y_revenue_fen AS DECIMAL(38, 0)) < 0
      )
      THEN CAST(y_rd_expense_fen AS DECIMAL(38, 0)) > (
        0.05 * CAST(y_revenue_fen AS DECIMAL(38, 0))
      )
    END
  END AS t_innovation__rd_intensity_3_5,
  s_37915362d2
  AND CASE
    WHEN (
      ABS(y_rd_expense_fen) < 461168601842738790
    )
    AND (
      ABS(y_revenue_fen) < 461168601842738790
    )
    THEN CASE
      WHEN y_revenue_fen > 0
      THEN (
        y_rd_expense_fen * 10
      ) < y_revenue_fen
      WHEN y_revenue_fen < 0
      THEN (
        y_rd_expense_fen * 10
      ) > y_revenue_fen
    END
    ELSE CASE
      WHEN (
        CAST(y_revenue_fen AS DECIMAL(38, 0)) <> 0
      )
      AND (
        CAST(y_revenue_fen AS DECIMAL(38, 0)) > 0
      )
      THEN CAST(y_rd_expense_fen AS DECIMAL(38, 0)) < (
        0.1 * CAST(y_revenue_fen AS DECIMAL(38, 0))
      )
      WHEN (
        CAST(y_revenue_fen AS DECIMAL(38, 0)) <> 0
      )
      AND (
        CAST(y_revenue_fen AS DECIMAL(38, 0)) < 0
      )
      THEN CAST(y_rd_expense_fen AS DECIMAL(38, 0)) > (
        0.1 * CAST(y_revenue_fen AS DECIMAL(38, 0))
      )
    END
  END AS t_innovation__rd_intensity_5_10,
  s_cec418b61a
  AND CASE
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
      ) < y_revenue_fen
      WHEN y_revenue_fen < 0
      THEN (
        y_rd_expense_fen * 100
      ) > y_revenue_fen
    END
    ELSE CASE
      WHEN (
        CAST(y_revenue_fen AS DECIMAL(38, 0)) <> 0
      )
      AND (
        CAST(y_revenue_fen AS DECIMAL(38, 0)) > 0
      )
      THEN CAST(y_rd_expense_fen AS DECIMAL(38, 0)) < (
        0.01 * CAST(y_revenue_fen AS DECIMAL(38, 0))
      )
      WHEN (
        CAST(y_revenue_fen AS DECIMAL(38, 0)) <> 0
      )
      AND (
        CAST(y_revenue_fen AS DECIMAL(38, 0)) < 0
      )
      THEN CAST(y_rd_expense_fen AS DECIMAL(38, 0)) > (
        0.01 * CAST(y_revenue_fen AS DECIMAL(38, 0))
      )
    END
  END AS t_innovation__rd_intensity_under_1,
  s_a226980c2a AS t_innovation__rd_meets_high_tech,
  a_count_ip_rights_667be5 > 0 AS t_innovation__software_copyright,
  a_count_ip_rights_m12_675608 > 0 AS t_innovation__software_copyright_new,
  a_count_ip_rights_667be5 >= 20 AS t_innovation__software_copyrights_20,
  CAST(a_count_ip_rights_667be5 AS DECIMAL(38, 6)) AS v_innovation__software_copyrights_20,
  a_count_ip_rights_667be5 >= 5 AS t_innovation__software_copyrights_5,
  CAST(a_count_ip_rights_667be5 AS DECIMAL(38, 6)) AS v_innovation__software_copyrights_5,
  s_59ec2e6aea AS t_innovation__specialised_any,
  s_e01dc17ada
  AND (
    s_1e077c954f OR s_bcf431dd3f
  )
  AND (
    NOT s_59ec2e6aea
  )
  AND s_52ff12c157
  AND s_0bad8561ed AS t_innovation__specialised_candidate,
  s_e17599f026 AS t_innovation__specialised_sme,
  s_1e077c954f AS t_innovation__tech_sme,
  a_count_ip_rights_88c606 > 0 AS t_innovation__utility_model,
  a_count_ip_rights_88c606 >= 10 AS t_innovation__utility_models_10,
  CAST(a_count_ip_rights_88c606 AS DECIMAL(38, 6)) AS v_innovation__utility_models_10,
  s_bb27b420bc AS t_risk__abnormal,
  a_count_abnormal_operations > 0 AS t_risk__abnormal_history,
  a_count_abnormal_operations_m12 > 0 AS t_risk__abnormal_new,
  s_2c051b397c OR s_bb27b420bc AS t_risk__credit_alert,
  s_2c051b397c AS t_risk__dishonest,
  a_count_dishonesty_list > 0 AS t_risk__dishonest_history,
  a_count_dishonesty_list_m12 > 0 AS t_risk__dishonest_new,
  s_956a226af2 AS t_risk__electricity_cliff,
  (
    a_count_tax_m6 = 0
  ) AND s_f76c65360d AND s_e363c908f6 AS t_risk__no_tax_filing_6m,
  s_efe02fb4c7 AND (
    s_956a226af2 OR s_d1ed218433
  ) AS t_risk__operations_stalled,
  a_count_penalties_m12 > 0 AS t_risk__penalty_12m,
  a_count_penalties_m24 > 0 AS t_risk__penalty_24m,
  a_max_penalties_fine_m24 >= 10000000 AS t_risk__penalty_large,
  a_count_penalties_m24 >= 3 AS t_risk__penalty_repeated,
  CAST(a_count_penalties_m24 AS DECIMAL(38, 6)) AS v_risk__penalty_repeated,
  a_sum_penalties_fine_m24 >= 50000000 AS t_risk__penalty_total_large,
  s_efe02fb4c7 AS t_risk__revenue_cliff,
  CASE
    WHEN (
      ABS(a_sum_tax_m3) < 2305843009213693951
    )
    AND (
      ABS(a_sum_tax_m3_o12) < 2305843009213693951
    )
    THEN CASE
      WHEN a_sum_tax_m3_o12 > 0
      THEN (
        (
          a_sum_tax_m3 - a_sum_tax_m3_o12
        ) * 2
      ) <= (
        -1 * a_sum_tax_m3_o12
      )
    END
    ELSE CASE
      WHEN (
        a_sum_tax_m3_o12 > 0
      )
      THEN (
        CAST(a_sum_tax_m3 AS DECIMAL(38, 0)) - CAST(a_sum_tax_m3_o12 AS DECIMAL(38, 0))
      ) <= (
        (
          -0.5
        ) * CAST(a_sum_tax_m3_o12 AS DECIMAL(38, 0))
      )
    END
  END AS t_risk__tax_cliff,
  (
    a_count_revenue_m6 >= 2
  )
  AND (
    a_count_revenue_m6_ee8a26 = a_count_revenue_m6
  ) AS t_risk__zero_revenue_6m,
  s_95137101ff
  AND (
    a_sum_revenue_m12 < (
      0.8 * CAST(ref_scope_threshold_fen AS DECIMAL(38, 0))
    )
  ) AS t_scope__left_survey,
  s_25c3a92526 AS t_scope__near_accommodation_catering,
  s_8d62ebd6fd OR s_d0abe2e39f OR s_87c66699db OR s_25c3a92526 OR s_7f5fd89b05 AS t_scope__near_any,
  s_8d62ebd6fd AS t_scope__near_industry,
  s_87c66699db AS t_scope__near_retail,
  s_7f5fd89b05 AS t_scope__near_services,
  s_d0abe2e39f AS t_scope__near_wholesale,
  a_count_survey_list_4fc173 > 0 AS t_scope__official_accommodation,
  s_95137101ff AS t_scope__official_any,
  a_count_survey_list_16631a > 0 AS t_scope__official_catering,
  a_count_survey_list_340cd6 > 0 AS t_scope__official_construction,
  s_c0eefa465c AS t_scope__official_industry,
  a_count_survey_list_7cfbe7 > 0 AS t_scope__official_real_estate,
  s_d0162a2ccb AS t_scope__official_retail,
  s_0dd43c2b59 AS t_scope__official_services,
  s_af533e71f9 AS t_scope__official_wholesale,
  (
    NOT (
      s_43d560104f IS NULL
    )
  ) AND (
    NOT s_95137101ff
  ) AS t_scope__potential_entry,
  s_43d560104f IN ('限额以上住宿业', '限额以上餐饮业') AS t_scope__reached_accommodation_catering,
  s_43d560104f = '规模以上工业' AS t_scope__reached_industry,
  s_43d560104f = '限额以上零售业' AS t_scope__reached_retail,
  s_43d560104f = '规模以上服务业' AS t_scope__reached_services,
  s_43d560104f = '限额以上批发业' AS t_scope__reached_wholesale,
  s_1a6af576f8 = 'large' AS t_size__large,
  s_1a6af576f8 = 'medium' AS t_size__medium,
  s_1a6af576f8 = 'micro' AS t_size__micro,
  s_1a6af576f8 = 'small' AS t_size__small,
  s_1a6af576f8 IN ('small', 'micro') AS t_size__small_micro,
  s_e01dc17ada AS t_size__sme,
  (
    s_1a6af576f8 IS NULL
  ) AND (
    NOT (
      ref_section IS NULL
    )
  ) AS t_size__undetermined,
  a_latest_headcount_m3 >= 1000 AS t_talent__headcount_1000_plus,
  (
    a_latest_headcount_m3 >= 100
  ) AND (
    a_latest_headcount_m3 <= 299
  ) AS t_talent__headcount_100_299,
  (
    a_latest_headcount_m3 >= 10
  ) AND (
    a_latest_headcount_m3 <= 49
  ) AS t_talent__headcount_10_49,
  (
    a_latest_headcount_m3 >= 1
  ) AND (
    a_latest_headcount_m3 <= 9
  ) AS t_talent__headcount_1_9,
  (
    a_latest_headcount_m3 >= 300
  ) AND (
    a_latest_headcount_m3 <= 999
  ) AS t_talent__headcount_300_999,
  (
    a_latest_headcount_m3 >= 50
  ) AND (
    a_latest_headcount_m3 <= 99
  ) AS t_talent__headcount_50_99,
  CASE
    WHEN (
      ABS(a_sum_headcount_m3) < 461168601842738790
    )
    AND (
      ABS(a_sum_headcount_m3_o12) < 461168601842738790
    )
    THEN CASE
      WHEN a_sum_headcount_m3_o12 > 0
      THEN (
        (
          a_sum_headcount_m3 - a_sum_headcount_m3_o12
        ) * 10
      ) <= (
        -1 * a_sum_headcount_m3_o12
      )
    END
    ELSE CASE
      WHEN (
        a_sum_headcount_m3_o12 > 0
      )
      THEN (
        CAST(a_sum_headcount_m3 AS DECIMAL(38, 0)) - CAST(a_sum_headcount_m3_o12 AS DECIMAL(38, 0))
      ) <= (
        (
          -0.1
        ) * CAST(a_sum_headcount_m3_o12 AS DECIMAL(38, 0))
      )
    END
  END AS t_talent__headcount_decline_10,
  s_d1ed218433 AS t_talent__headcount_decline_30,
  CASE
    WHEN (
      ABS(a_sum_headcount_m3) < 461168601842738790
    )
    AND (
      ABS(a_sum_headcount_m3_o12) < 461168601842738790
    )
    THEN CASE
      WHEN a_sum_headcount_m3_o12 > 0
      THEN (
        (
          a_sum_headcount_m3 - a_sum_headcount_m3_o12
        ) * 10
      ) >= a_sum_headcount_m3_o12
    END
    ELSE CASE
      WHEN (
        a_sum_headcount_m3_o12 > 0
      )
      THEN (
        CAST(a_sum_headcount_m3 AS DECIMAL(38, 0)) - CAST(a_sum_headcount_m3_o12 AS DECIMAL(38, 0))
      ) >= (
        0.1 * CAST(a_sum_headcount_m3_o12 AS DECIMAL(38, 0))
      )
    END
  END AS t_talent__headcount_growth_10,
  CASE
    WHEN (
      ABS(a_sum_headcount_m3) < 461168601842738790
    )
    AND (
      ABS(a_sum_headcount_m3_o12) < 461168601842738790
    )
    THEN CASE
      WHEN a_sum_headcount_m3_o12 > 0
      THEN (
        (
          a_sum_headcount_m3 - a_sum_headcount_m3_o12
        ) * 10
      ) >= (
        3 * a_sum_headcount_m3_o12
      )
    END
    ELSE CASE
      WHEN (
        a_sum_headcount_m3_o12 > 0
      )
      THEN (
        CAST(a_sum_headcount_m3 AS DECIMAL(38, 0)) - CAST(a_sum_headcount_m3_o12 AS DECIMAL(38, 0))
      ) >= (
        0.3 * CAST(a_sum_headcount_m3_o12 AS DECIMAL(38, 0))
      )
    END
  END AS t_talent__headcount_growth_30,
  a_latest_headcount_m3 = 0 AS t_talent__headcount_none,
  (
    a_count_headcount_m12 = 12
  )
  AND (
    a_min_headcount_m12 >= (
      0.9 * CAST(a_max_headcount_m12 AS DECIMAL(38, 0))
    )
  )
  AND (
    a_max_headcount_m12 > 0
  ) AS t_talent__headcount_stable,
  (
    a_sum_headcount_m1 - a_sum_headcount_m1_o3
  ) >= 10 AS t_talent__net_hiring_10,
  (
    a_count_headcount_m6 = 0
  ) AND s_f76c65360d AND s_e363c908f6 AS t_talent__no_insurance_data,
  CASE
    WHEN (
      ABS(a_sum_headcount_m1) < 922337203685477580
    )
    AND (
      ABS(a_sum_headcount_m1_o1) < 922337203685477580
    )
    THEN CASE
      WHEN a_sum_headcount_m1_o1 > 0
      THEN (
        (
          a_sum_headcount_m1 - a_sum_headcount_m1_o1
        ) * 5
      ) <= (
        -1 * a_sum_headcount_m1_o1
      )
    END
    ELSE CASE
      WHEN (
        a_sum_headcount_m1_o1 > 0
      )
      THEN (
        CAST(a_sum_headcount_m1 AS DECIMAL(38, 0)) - CAST(a_sum_headcount_m1_o1 AS DECIMAL(38, 0))
      ) <= (
        (
          -0.2
        ) * CAST(a_sum_headcount_m1_o1 AS DECIMAL(38, 0))
      )
    END
  END
  AND (
    a_sum_headcount_m1_o1 >= 20
  ) AS t_talent__sudden_layoff,
  (
    e_town_code IS NULL
  )
  OR (
    NOT (
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
  ) AS t_town__outside_district,
  e_town_code = '330110005' AS t_town__t330110005,
  e_town_code = '330110009' AS t_town__t330110009,
  e_town_code = '330110010' AS t_town__t330110010,
  e_town_code = '330110011' AS t_town__t330110011,
  e_town_code = '330110012' AS t_town__t330110012,
  e_town_code = '330110013' AS t_town__t330110013,
  e_town_code = '330110014' AS t_town__t330110014,
  e_town_code = '330110109' AS t_town__t330110109,
  e_town_code = '330110110' AS t_town__t330110110,
  e_town_code = '330110111' AS t_town__t330110111,
  e_town_code = '330110112' AS t_town__t330110112,
  e_town_code = '330110113' AS t_town__t330110113
FROM layer_2
