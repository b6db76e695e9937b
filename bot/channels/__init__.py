"""Channel adapters: each turns its platform's messages into InboundMessage and back."""
