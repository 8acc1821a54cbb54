"""HTTP adapters: FastAPI app, Twilio SMS, web chat, staff inbox. Depends on core, never the reverse."""
