"""Custom Rasa 3.6 NLU components, loaded by Rasa from .venv-rasa.

Code here may import only what the Rasa environment has (rasa, numpy, …), never core/ or bot/.
"""
