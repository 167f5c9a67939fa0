"""Views, one module per area of the dashboard."""
