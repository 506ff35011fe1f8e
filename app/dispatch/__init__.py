"""Sending orders to printer and webhook stations."""
