"""Framework-free core of the aftercare assistant.

Owns the data model, the services that use it, the triage policy and the
recovery timeline. Imports neither FastAPI, rasa, rasa_sdk nor twilio.
"""
