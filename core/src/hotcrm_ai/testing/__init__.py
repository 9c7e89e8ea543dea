"""Contract tests any provider plugin runs against itself.

Subclass ``ProviderContract`` in your plugin's test suite and supply the fixtures; pytest then runs
every ``test_*`` method below against your provider (the pattern of Django's and SQLAlchemy's
third-party backend suites)::

    from hotcrm_ai.testing import ProviderContract

    class TestMyProviderContract(ProviderContract):
        @pytest.fixture
        def provider(self, server): ...           # a working provider instance
        @pytest.fixture
        def model(self): ...                      # a ModelConfig it serves
        @pytest.fixture
        def inputs(self): ...                     # >= 3 PredictionInputs with different answers
        @pytest.fixture
        def unauthorized_provider(self, server): ...  # same endpoint, wrong credentials
        @pytest.fixture
        def slow_model(self, server): ...         # (provider, model) whose endpoint is slower than model.timeout_s
        @pytest.fixture
        def planted_secret(self): ...             # the credential string that must never leak

The suite imports pytest lazily so that importing ``hotcrm_ai.testing`` outside tests is harmless.
"""

from __future__ import annotations

from hotcrm_ai.testing.contract import ProviderContract

__all__ = ["ProviderContract"]
