"""Web pages served by the gateway: static files and the sign-in they share."""
