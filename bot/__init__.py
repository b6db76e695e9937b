"""The gateway: channel adapters → one internal message type → router → Rasa or the desk."""
