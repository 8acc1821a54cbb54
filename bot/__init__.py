"""The Rasa assistant's own assets: domain, custom input channel, endpoints, credentials."""
