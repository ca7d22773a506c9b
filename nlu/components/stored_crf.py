"""Rasa's CRFEntityExtractor with its trained CRFs kept in the model, not fitted again on load.

Rasa 3.6 stores only the CRF's training tokens and fits the CRFs again every time a model loads:
about 2 s of our start-up and of every model swap (PUT /model), spent in crfsuite's C code,
which holds the GIL, so the server answered no parse meanwhile even with the model loading in a
thread (nlu.rasa_serve). This subclass also stores the fitted CRFs (sklearn-crfsuite pickles
them with their model file) and loads them; a model without them loads the old way. Training
and predictions are Rasa's own, unchanged.
"""

from __future__ import annotations

import pickle
from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.crf_entity_extractor import CRFEntityExtractor, CRFToken

TAGGERS_FILE = "crf_taggers.pkl"
ORDER_FILE = "crf_order.pkl"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class StoredCRFEntityExtractor(CRFEntityExtractor):
    """CRFEntityExtractor whose fitted CRFs are part of the model."""

    def persist(self, dataset: list[list[CRFToken]]) -> None:
        super().persist(dataset)
        with self._model_storage.write_to(self._resource) as model_dir:
            with (model_dir / TAGGERS_FILE).open("wb") as handle:
                pickle.dump(self.entity_taggers, handle, protocol=pickle.HIGHEST_PROTOCOL)
            with (model_dir / ORDER_FILE).open("wb") as handle:
                pickle.dump(list(self.crf_order), handle, protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> CRFEntityExtractor:
        try:
            with model_storage.read_from(resource) as model_dir:
                taggers, order = model_dir / TAGGERS_FILE, model_dir / ORDER_FILE
                if taggers.exists() and order.exists():
                    # The model's own files, written by persist above (as Rasa's sklearn
                    # components keep theirs with joblib).
                    with taggers.open("rb") as handle:
                        entity_taggers = pickle.load(handle)  # noqa: S301
                    with order.open("rb") as handle:
                        crf_order = pickle.load(handle)  # noqa: S301
                    extractor = cls(config, model_storage, resource, entity_taggers)
                    extractor.crf_order = crf_order
                    return extractor
        except ValueError:
            pass  # no stored resource: Rasa's own load says so
        return super().load(config, model_storage, resource, execution_context, **kwargs)
