"""rasa_sdk action server: walkthroughs, lessons, commune, consent, handoff requests.

Run with `python -m actions.server` (on 127.0.0.1, answering only Rasa's token; see there);
every Action subclass in this package is registered.
"""
