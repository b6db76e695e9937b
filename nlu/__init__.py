"""Custom Rasa 3.6 components, tracker stores and the gateway's turn channel, loaded by Rasa
from .venv-rasa.

Code here may import only what the Rasa environment has (rasa, numpy, …), never core/ or bot/.
`nlu/vietnamese.py` and `nlu/controls.py` are pure Python and are also used by the gateway,
the actions and `cns`.
"""
