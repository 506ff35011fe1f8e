"""The database: engine set-up per dialect, and write transactions."""
