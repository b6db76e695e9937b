"""Custom Rasa 3.6 components and tracker stores, loaded by Rasa from .venv-rasa.

Code here may import only what the Rasa environment has (rasa, numpy, …), never core/ or bot/.
`nlu/vietnamese.py` is pure Python and is also used by the gateway and `cns`.
"""
