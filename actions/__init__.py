"""rasa_sdk action server: walkthroughs, lessons, commune, consent, handoff requests.

Run with `python -m rasa_sdk --actions actions`; every Action subclass in this package is
registered.
"""
