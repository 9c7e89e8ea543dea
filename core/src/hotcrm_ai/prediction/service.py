"""Where ``PredictionService`` used to live: serving is ``prediction.serving``, recording ``prediction.recording``."""

from hotcrm_ai.prediction.serving import PredictionService

__all__ = ["PredictionService"]
