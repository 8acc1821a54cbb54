"""Rasa custom actions (rasa-sdk). Adapts Rasa to core; creates nothing at import time."""
