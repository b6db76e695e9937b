"""The staff pages of the gateway (/admin): monthly reports for communes and provinces."""
