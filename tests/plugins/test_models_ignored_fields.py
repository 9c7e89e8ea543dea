"""Source columns the models leave out on purpose (leaky, identifying, protected) are accepted and
ignored, so a CRM record maps without glue and the answer is the same with or without them."""

from __future__ import annotations

from hotcrm_ai import AICloud
from hotcrm_ai.config import Settings
from hotcrm_ai_plugins.models.examples import EXAMPLES


def test_ignored_columns_do_not_change_the_answer() -> None:
    import hotcrm_ai_plugins

    ai = AICloud(Settings(), plugins=[hotcrm_ai_plugins], load_entrypoints=False)
    churn = EXAMPLES["churn-prediction-v1"]
    plain = ai.predict("churn-prediction-v1", churn, use_cache=False)
    extra = ai.predict("churn-prediction-v1", {**churn, "gender": "Male", "customer_id": "0001-ABCD"}, use_cache=False)
    assert extra.prediction == plain.prediction
    lead = EXAMPLES["lead-scoring-v1"]
    assert (
        ai.predict("lead-scoring-v1", {**lead, "duration": 4000}, use_cache=False).prediction
        == ai.predict("lead-scoring-v1", lead, use_cache=False).prediction
    )
