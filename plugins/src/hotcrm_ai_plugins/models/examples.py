"""Realistic inputs for each of the five models (the demo and the tests use them). Plain data only."""

from __future__ import annotations

from typing import Any

LEAD_WARM: dict[str, Any] = {
    "age": 35,
    "job": "admin.",
    "marital": "married",
    "education": "university.degree",
    "default": "no",
    "housing": "yes",
    "loan": "no",
    "contact": "cellular",
    "month": "may",
    "day_of_week": "thu",
    "campaign": 1,
    "pdays": 999,
    "previous": 0,
    "poutcome": "nonexistent",
    "emp_var_rate": -1.8,
    "cons_price_idx": 92.893,
    "cons_conf_idx": -46.2,
    "euribor3m": 1.299,
    "nr_employed": 5099.1,
}
# a returning lead: the previous campaign converted, called back after 6 days, in a low-rate period
LEAD_HOT: dict[str, Any] = {
    **LEAD_WARM,
    "month": "nov",
    "day_of_week": "wed",
    "pdays": 6,
    "previous": 1,
    "poutcome": "success",
    "emp_var_rate": -3.4,
    "cons_price_idx": 92.649,
    "cons_conf_idx": -30.1,
    "euribor3m": 0.714,
    "nr_employed": 5017.5,
}
CHURN_HIGH: dict[str, Any] = {
    "senior_citizen": 0,
    "partner": "No",
    "dependents": "No",
    "tenure": 2,
    "phone_service": "Yes",
    "multiple_lines": "No",
    "internet_service": "Fiber optic",
    "online_security": "No",
    "online_backup": "No",
    "device_protection": "No",
    "tech_support": "No",
    "streaming_tv": "Yes",
    "streaming_movies": "No",
    "contract": "Month-to-month",
    "paperless_billing": "Yes",
    "payment_method": "Electronic check",
    "monthly_charges": 85.7,
    "total_charges": 171.4,
}
CHURN_LOW: dict[str, Any] = {
    **CHURN_HIGH,
    "partner": "Yes",
    "dependents": "Yes",
    "tenure": 60,
    "internet_service": "DSL",
    "online_security": "Yes",
    "tech_support": "Yes",
    "contract": "Two year",
    "paperless_billing": "No",
    "payment_method": "Bank transfer (automatic)",
    "monthly_charges": 65.2,
    "total_charges": 3912.0,
}
SENTIMENT_POSITIVE = {
    "text": "Thanks for the quick fix - the new dashboard is great and your support team was really helpful!"
}
SENTIMENT_NEGATIVE = {"text": "Still waiting for a refund after three weeks. Terrible service, I am very disappointed."}
# Australian cafe and restaurant turnover (A$ bn), the last 36 months of the shipped evaluation series
FORECAST = {
    "history": [
        2.9667,
        2.9731,
        3.1775,
        2.8496,
        2.6077,
        2.924,
        2.8535,
        2.9015,
        2.813,
        2.9684,
        3.0651,
        2.9887,
        3.1754,
        3.2108,
        3.5368,
        3.2091,
        2.8799,
        3.232,
        3.1821,
        3.2283,
        3.0675,
        3.3158,
        3.3507,
        3.3604,
        3.4016,
        3.3749,
        3.6927,
        3.3913,
        3.0275,
        3.3619,
        3.2665,
        3.314,
        3.2575,
        3.4453,
        3.4211,
        3.4444,
    ],
    "horizon": 6,
    "season_length": 12,
}
# white hanging heart T-light holder, white metal lantern, cream cupid hearts coat hanger
RECOMMENDATION = {"products": ["85123A", "71053", "84406B"], "k": 5}

EXAMPLES: dict[str, dict[str, Any]] = {
    "lead-scoring-v1": LEAD_HOT,
    "churn-prediction-v1": CHURN_HIGH,
    "sentiment-analysis-v1": SENTIMENT_POSITIVE,
    "revenue-forecast-v1": FORECAST,
    "product-recommendation-v1": RECOMMENDATION,
}
