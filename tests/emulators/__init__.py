"""Local emulators of the Heroku Platform API and the Northflank API (test-only, never shipped)."""
